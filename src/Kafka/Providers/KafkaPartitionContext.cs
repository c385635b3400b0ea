using Confluent.Kafka;
using StreamGrains.Kafka.Checkpointing;

namespace StreamGrains.Kafka.Providers;

/// <summary>
/// What the receiver, the queue cache and the delivery-failure handler of one partition share on this silo: the
/// partition, how far it was read and handed over, and its checkpointer.
/// </summary>
internal sealed class KafkaPartitionContext(TopicPartition partition, KafkaCheckpointer checkpointer)
{
    private long _readUpTo = -1;
    private long _handedOverUpTo = -1;
    private long _readByteBudget = long.MaxValue;

    public TopicPartition Partition { get; } = partition;

    public string Topic => Partition.Topic;

    public KafkaCheckpointer Checkpointer { get; } = checkpointer;

    /// <summary>Whether the partition can be read, and its last known high watermark.</summary>
    public Statistics.KafkaPartitionHealth Health { get; } = new();

    /// <summary>Called when this silo starts or stops reading the partition (the partition directory hears of it at once).</summary>
    public Action? OwnershipChanged { get; set; }

    /// <summary>The offset after the last record the receiver read, or -1; for lag and /api/info only, never committed.</summary>
    public long ReadUpTo
    {
        get => Interlocked.Read(ref _readUpTo);
        set => Interlocked.Exchange(ref _readUpTo, value);
    }

    /// <summary>
    /// The offset before which every record read was handed over: cached (the cache sets it when it takes a read's
    /// containers) or dead-lettered (the receiver sets it for a read that produced no container), or -1. The
    /// checkpoint never passes it.
    /// </summary>
    public long HandedOverUpTo => Interlocked.Read(ref _handedOverUpTo);

    /// <summary>How many key and value bytes the next read may take before the cache's byte bound is reached.</summary>
    public long ReadByteBudget
    {
        get => Interlocked.Read(ref _readByteBudget);
        set => Interlocked.Exchange(ref _readByteBudget, value);
    }

    /// <summary>The cache of the current ownership, while there is one.</summary>
    public volatile KafkaQueueCache? Cache;

    /// <summary>One dead-lettering of failed deliveries at a time per partition (the failure handler and the commit loop both do it).</summary>
    public SemaphoreSlim DeadLettering { get; } = new(1, 1);

    /// <summary>Moves <see cref="HandedOverUpTo"/> forward to <paramref name="offset"/>.</summary>
    public void HandOver(long offset)
    {
        long current;
        do
        {
            current = Interlocked.Read(ref _handedOverUpTo);
            if (offset <= current)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _handedOverUpTo, offset, current) != current);
    }

    /// <summary>
    /// Forgets what an earlier ownership of the partition on this silo knew: a partition that comes back after another
    /// silo read it starts again from the committed offset, and nothing from before may count as delivered.
    /// </summary>
    public void StartOwnership()
    {
        ReadUpTo = -1;
        Interlocked.Exchange(ref _handedOverUpTo, -1);
        ReadByteBudget = long.MaxValue;
        Checkpointer.Reset();
    }

    /// <summary>The silo reading the partition now (for /api/info); null while nobody on this silo does.</summary>
    public string? Owner => _owner;

    private volatile string? _owner;

    /// <summary>Starts (a name) or ends (null) this silo's reading of the partition, and says so.</summary>
    public void SetOwner(string? owner)
    {
        _owner = owner;
        OwnershipChanged?.Invoke();
    }

    /// <summary>
    /// The partition as this silo sees it: its owner, state, offsets, and lag (the last known high watermark minus the
    /// read position, or the fetch position before the first read).
    /// </summary>
    public Statistics.KafkaPartitionStatus Status(DateTime nowUtc, TimeSpan unreadableAfter)
    {
        var owner = Owner;
        var (high, seen) = Health.HighWatermark;
        var read = ReadUpTo;
        var position = read >= 0 ? read : Health.FetchPosition;
        long? lag = owner is not null && high >= 0 && position >= 0 ? Math.Max(0, high - position) : null;
        return new Statistics.KafkaPartitionStatus(
            Topic,
            Partition.Partition.Value,
            owner,
            read,
            Checkpointer.DeliveredOffset,
            Checkpointer.CommittedOffset,
            lag,
            owner is null ? null : Health.State(nowUtc, unreadableAfter),
            owner is null || high < 0 ? null : high,
            owner is null || high < 0 ? null : (long)(nowUtc - seen).TotalMilliseconds);
    }
}
