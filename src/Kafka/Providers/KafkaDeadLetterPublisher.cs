using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using StreamGrains.Kafka.DataAdapters;
using StreamGrains.Kafka.Statistics;

namespace StreamGrains.Kafka.Providers;

/// <summary>
/// Writes records that cannot become stream events to <c>&lt;topic&gt;.dlq</c>, with the original key, value and headers
/// and headers that say why and where from: <c>dlq.reason</c>, <c>dlq.detail</c>, <c>dlq.source.topic</c>,
/// <c>dlq.source.partition</c>, <c>dlq.source.offset</c>, <c>dlq.source.timestamp</c>.
/// </summary>
/// <remarks>
/// Batches a consumer kept failing on go there too, with reason <c>delivery-failed</c>, the consumer's error as the
/// detail and <c>dlq.stream</c>: their original records are read back from Kafka (or, where Kafka no longer holds one,
/// the event is encoded again and <c>dlq.original</c> says <c>re-encoded</c>).
/// </remarks>
internal sealed partial class KafkaDeadLetterPublisher(
    IProducer<byte[]?, byte[]?> producer,
    KafkaStreamOptions options,
    IKafkaDataAdapter dataAdapter,
    KafkaRecordFetcher fetcher,
    KafkaStreamMetrics metrics,
    ILogger<KafkaDeadLetterPublisher> logger)
{
    public const string DeliveryFailed = "delivery-failed";
    public const string StreamHeader = "dlq.stream";
    public const string OriginalHeader = "dlq.original";

    public const string ReasonHeader = "dlq.reason";
    public const string DetailHeader = "dlq.detail";
    public const string SourceTopicHeader = "dlq.source.topic";
    public const string SourcePartitionHeader = "dlq.source.partition";
    public const string SourceOffsetHeader = "dlq.source.offset";
    public const string SourceTimestampHeader = "dlq.source.timestamp";
    public const string OriginalSizeHeader = "dlq.original.size";

    /// <summary>Key, value and headers of a dead letter stay under this, below librdkafka's and Kafka's default 1 MB message limit.</summary>
    public const int MaxDeadLetterBytes = 900_000;

    /// <summary>The longest <c>dlq.detail</c>, in characters: a consumer's error can be long.</summary>
    public const int MaxDetailLength = 2_000;

    /// <summary>Writes the rejected records and waits until Kafka acknowledged every one.</summary>
    /// <exception cref="ProduceException{TKey,TValue}">One could not be written; none may be considered handled.</exception>
    public async Task PublishAsync(IReadOnlyList<(KafkaInboundRecord Record, string Reason, string Detail)> rejected, CancellationToken cancellationToken)
    {
        var writes = new Task[rejected.Count];
        for (var i = 0; i < rejected.Count; i++)
        {
            var (record, reason, detail) = rejected[i];
            if (detail.Length > MaxDetailLength)
            {
                detail = detail[..MaxDetailLength] + "…";
            }

            var headers = new Headers();
            if (record.Headers is not null)
            {
                foreach (var header in record.Headers)
                {
                    headers.Add(header.Key, header.GetValueBytes());
                }
            }

            var value = record.Value;
            var size = (record.Key?.Length ?? 0) + (value?.Length ?? 0);
            headers.Add(ReasonHeader, Encoding.UTF8.GetBytes(reason));
            headers.Add(DetailHeader, Encoding.UTF8.GetBytes(detail));
            headers.Add(SourceTopicHeader, Encoding.UTF8.GetBytes(record.Topic));
            headers.Add(SourcePartitionHeader, Encoding.UTF8.GetBytes(record.Partition.ToString(CultureInfo.InvariantCulture)));
            headers.Add(SourceOffsetHeader, Encoding.UTF8.GetBytes(record.Offset.ToString(CultureInfo.InvariantCulture)));
            headers.Add(SourceTimestampHeader, Encoding.UTF8.GetBytes(record.Timestamp.UnixTimestampMs.ToString(CultureInfo.InvariantCulture)));
            headers.Add(OriginalSizeHeader, Encoding.UTF8.GetBytes(size.ToString(CultureInfo.InvariantCulture)));

            var headerBytes = headers.Sum(h => h.Key.Length + (h.GetValueBytes()?.Length ?? 0) + 8);
            var room = Math.Max(0, Math.Min(options.MaxRecordBytes, MaxDeadLetterBytes) - (record.Key?.Length ?? 0) - headerBytes);
            if (value is not null && value.Length > room)
            {
                // Too big for Kafka's default message size with the headers: the dead letter keeps the value's head;
                // the whole record stays in the source topic, where the source headers point.
                value = value.AsSpan(0, room).ToArray();
            }

            var topic = options.DeadLetterTopicOf(record.Topic);
            writes[i] = producer.ProduceAsync(topic, new Message<byte[]?, byte[]?> { Key = record.Key, Value = value, Headers = headers }, cancellationToken);
            LogDeadLettered(logger, record.Topic, record.Partition, record.Offset, reason);
        }

        await Task.WhenAll(writes).ConfigureAwait(false);
        foreach (var (record, reason, _) in rejected)
        {
            metrics.DeadLettered(record.Topic, reason);
        }
    }

    /// <summary>
    /// Writes the batches consumers failed on in <paramref name="partition"/>'s cache to the dead-letter topic; each
    /// one, once Kafka acknowledged all its records, no longer holds the partition's checkpoint back.
    /// </summary>
    /// <returns>How many batches were dead-lettered.</returns>
    public async Task<int> PublishFailedDeliveriesAsync(KafkaPartitionContext partition, CancellationToken cancellationToken)
    {
        if (partition.Cache is not { } cache || cache.PendingFailures.Count == 0)
        {
            return 0;
        }

        await partition.DeadLettering.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var done = 0;
            foreach (var failure in cache.PendingFailures)
            {
                var batch = failure.Batch;
                var originals = await fetcher.FetchAsync(partition.Partition, batch.Offsets, options.MetadataTimeout, cancellationToken).ConfigureAwait(false);
                var key = System.Text.Encoding.UTF8.GetBytes(KafkaQueueMapper.KeyText(batch.StreamId));
                var records = new List<(KafkaInboundRecord, string, string)>(batch.Offsets.Count);
                for (var i = 0; i < batch.Offsets.Count; i++)
                {
                    var offset = batch.Offsets[i];
                    var inbound = originals.TryGetValue(offset, out var original)
                        ? new KafkaInboundRecord(partition.Topic, partition.Partition.Partition.Value, offset, original.Message.Key, original.Message.Value, original.Message.Headers ?? [], original.Message.Timestamp)
                        : Reencoded(partition, offset, key, batch, i);
                    inbound.Headers!.Add(StreamHeader, System.Text.Encoding.UTF8.GetBytes(batch.StreamId.ToString()));
                    records.Add((inbound, DeliveryFailed, failure.Error));
                }

                await PublishAsync(records, cancellationToken).ConfigureAwait(false);
                cache.CompleteFailure(failure);
                done++;
            }

            return done;
        }
        finally
        {
            partition.DeadLettering.Release();
        }
    }

    /// <remarks>The detail stays out of the log: it may quote the record's payload (it travels in the dlq.detail header).</remarks>
    /// <summary>
    /// The dead letter of an event Kafka no longer holds the record of: encoded again (<c>dlq.original</c> =
    /// <c>re-encoded</c>), or without a value if the adapter cannot (<c>missing</c>): a failed batch must never wait for
    /// ever on its dead letter.
    /// </summary>
    private KafkaInboundRecord Reencoded(KafkaPartitionContext partition, long offset, byte[] key, KafkaBatchContainer batch, int index)
    {
        byte[]? value;
        string original;
        try
        {
            value = dataAdapter.Encode(KafkaQueueMapper.KeyText(batch.StreamId), batch.Events[index]);
            original = "re-encoded";
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            value = null;
            original = "missing";
        }

        return new KafkaInboundRecord(partition.Topic, partition.Partition.Partition.Value, offset, key, value, [new Header(OriginalHeader, Encoding.UTF8.GetBytes(original))], new Timestamp(batch.LastTimestampMs, TimestampType.CreateTime));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dead-lettering {Topic}[{Partition}]@{Offset}: {Reason} (the detail is in the dead letter's dlq.detail header)")]
    private static partial void LogDeadLettered(ILogger logger, string topic, int partition, long offset, string reason);
}
