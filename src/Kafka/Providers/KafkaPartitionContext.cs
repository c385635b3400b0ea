using Confluent.Kafka;
using StreamGrains.Kafka.Checkpointing;

namespace StreamGrains.Kafka.Providers;

/// <summary>
/// What the receiver and the queue cache of one partition share on this silo: the partition, how far it was read,
/// and its checkpointer.
/// </summary>
internal sealed class KafkaPartitionContext(TopicPartition partition, KafkaCheckpointer checkpointer)
{
    private long _readUpTo = -1;

    public TopicPartition Partition { get; } = partition;

    public string Topic => Partition.Topic;

    public KafkaCheckpointer Checkpointer { get; } = checkpointer;

    /// <summary>The offset after the last record read and handed over (delivered to the cache or dead-lettered), or -1.</summary>
    public long ReadUpTo
    {
        get => Interlocked.Read(ref _readUpTo);
        set => Interlocked.Exchange(ref _readUpTo, value);
    }

    /// <summary>
    /// Forgets what an earlier ownership of the partition on this silo knew: a partition that comes back after another
    /// silo read it starts again from the committed offset, and nothing from before may count as delivered.
    /// </summary>
    public void StartOwnership()
    {
        ReadUpTo = -1;
        Checkpointer.Reset();
    }

    /// <summary>The silo reading the partition now (for /api/info); null while nobody on this silo does.</summary>
    public volatile string? Owner;

    /// <summary>The reader's lag, while this silo reads the partition.</summary>
    public volatile Func<long?>? Lag;
}
