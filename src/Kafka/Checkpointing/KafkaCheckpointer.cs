using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using StreamGrains.Kafka.Statistics;

namespace StreamGrains.Kafka.Checkpointing;

/// <summary>
/// Commits one partition's delivered offset to the consumer group. The queue cache reports, through
/// <see cref="Update"/>, the offset before which every event was delivered to every consumer; the receiver calls
/// <see cref="FlushAsync"/> every commit interval and once more when it shuts down. Commit gates may hold the offset back.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The semaphore never allocates a wait handle (only WaitAsync is used), so it holds nothing to dispose.")]
internal sealed partial class KafkaCheckpointer(
    TopicPartition partition,
    IEnumerable<IKafkaCommitGate> gates,
    KafkaStreamMetrics metrics,
    ILogger logger) : IStreamQueueCheckpointer<long>
{
    private readonly IKafkaCommitGate[] _gates = gates.ToArray();
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private long _delivered = -1;
    private long _committed = -1;
    private IConsumer<byte[]?, byte[]?>? _consumer;

    public TopicPartition Partition => partition;

    /// <summary>The offset before which everything was delivered, or -1 before anything was.</summary>
    public long DeliveredOffset => Interlocked.Read(ref _delivered);

    /// <summary>The offset last committed by this silo, or -1.</summary>
    public long CommittedOffset => Interlocked.Read(ref _committed);

    public bool CheckpointExists => CommittedOffset >= 0;

    /// <summary>Binds the consumer that owns the partition (commits go through it); null unbinds.</summary>
    public void Bind(IConsumer<byte[]?, byte[]?>? consumer) => Volatile.Write(ref _consumer, consumer);

    /// <summary>Forgets the delivered and committed offsets of an earlier ownership.</summary>
    public void Reset()
    {
        Interlocked.Exchange(ref _delivered, -1);
        Interlocked.Exchange(ref _committed, -1);
    }

    /// <summary>The group's committed offset, or -1 if it has none.</summary>
    public Task<long> Load() => Load(CancellationToken.None);

    public Task<long> Load(CancellationToken cancellationToken)
    {
        var consumer = Volatile.Read(ref _consumer) ?? throw new InvalidOperationException($"No consumer is bound to {partition}.");
        return Task.Run(
            () =>
            {
                var committed = consumer.Committed([partition], TimeSpan.FromSeconds(10)).Single().Offset;
                return committed.IsSpecial ? -1 : committed.Value;
            },
            cancellationToken);
    }

    public void Update(long offset, DateTime utcNow)
    {
        long current;
        do
        {
            current = Interlocked.Read(ref _delivered);
            if (offset <= current)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _delivered, offset, current) != current);
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _flushing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var offset = DeliveredOffset;
            if (offset <= CommittedOffset || Volatile.Read(ref _consumer) is not { } consumer)
            {
                return;
            }

            foreach (var gate in _gates)
            {
                offset = Math.Min(offset, await gate.GetCommittableOffsetAsync(partition, offset, cancellationToken).ConfigureAwait(false));
            }

            if (offset <= CommittedOffset)
            {
                return;
            }

            await Task.Run(() => consumer.Commit([new TopicPartitionOffset(partition, offset)]), cancellationToken).ConfigureAwait(false);
            Interlocked.Exchange(ref _committed, offset);
            metrics.OffsetCommitted(partition);
            LogCommitted(logger, partition.Topic, partition.Partition.Value, offset);
        }
        catch (KafkaException ex)
        {
            // The next flush tries again; nothing is lost, at worst more is re-delivered after a crash.
            LogCommitFailed(logger, ex, partition.Topic, partition.Partition.Value, ex.Error.Reason);
        }
        catch (ObjectDisposedException)
        {
            // The consumer was closed under us (shutdown); the owner's final flush already ran or will run.
        }
        finally
        {
            _flushing.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Committed {Topic}[{Partition}] at offset {Offset}")]
    private static partial void LogCommitted(ILogger logger, string topic, int partition, long offset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Committing {Topic}[{Partition}] failed: {Reason}")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, string topic, int partition, string reason);
}
