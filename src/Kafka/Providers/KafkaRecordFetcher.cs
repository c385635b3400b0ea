using Confluent.Kafka;

namespace StreamGrains.Kafka.Providers;

/// <summary>
/// Reads particular records of a partition back from Kafka, with a consumer of its own: the dead letter of a batch a
/// consumer failed on carries the original records (key, value and headers as written), not a re-encoding.
/// </summary>
internal sealed class KafkaRecordFetcher(KafkaStreamOptions options, string clientId) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConsumer<byte[]?, byte[]?>? _consumer;

    /// <summary>The records of <paramref name="partition"/> at <paramref name="offsets"/> that Kafka still holds, by offset.</summary>
    public async Task<Dictionary<long, ConsumeResult<byte[]?, byte[]?>>> FetchAsync(TopicPartition partition, IReadOnlyList<long> offsets, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var found = new Dictionary<long, ConsumeResult<byte[]?, byte[]?>>();
        if (offsets.Count == 0)
        {
            return found;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var consumer = _consumer ??= new ConsumerBuilder<byte[]?, byte[]?>(KafkaClientConfigs.Consumer(options, clientId)).Build();
            var wanted = offsets.ToHashSet();
            var last = offsets.Max();
            await Task.Run(
                () =>
                {
                    consumer.Assign(new TopicPartitionOffset(partition, offsets.Min()));
                    try
                    {
                        var deadline = DateTime.UtcNow + timeout;
                        while (found.Count < wanted.Count && DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
                        {
                            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is not { } record)
                            {
                                continue;
                            }

                            if (wanted.Contains(record.Offset.Value))
                            {
                                found[record.Offset.Value] = record;
                            }

                            if (record.Offset.Value >= last)
                            {
                                break;
                            }
                        }
                    }
                    finally
                    {
                        consumer.Unassign();
                    }
                },
                cancellationToken).ConfigureAwait(false);
            return found;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _consumer?.Dispose();
        _gate.Dispose();
    }
}
