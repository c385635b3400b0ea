namespace StreamGrains.Kafka.Providers;

/// <summary>
/// One consumer's position in a partition's cache, for one stream. The entry it returned last is in flight; the
/// entries of its stream before that are delivered to this consumer.
/// </summary>
internal sealed class KafkaQueueCacheCursor : IQueueCacheCursor
{
    private readonly KafkaQueueCache _cache;
    private KafkaBatchContainer? _current;
    private bool _disposed;

    internal KafkaQueueCacheCursor(KafkaQueueCache cache, KafkaQueueCache.StreamState stream, long nextSeq, long? startOffset, long? splitAt)
    {
        _cache = cache;
        Stream = stream;
        NextSeq = nextSeq;
        StartOffset = startOffset;
        SplitAt = splitAt;
    }

    internal KafkaQueueCache.StreamState Stream { get; }

    /// <summary>The sequence number of the next entry to look at.</summary>
    internal long NextSeq { get; set; }

    /// <summary>For a position inside an entry: the first offset to deliver.</summary>
    internal long? StartOffset { get; set; }

    /// <summary>After a positioning by token: the last offset of the first batch to hand out (the token's last offset).</summary>
    internal long? SplitAt { get; set; }

    /// <summary>The batch handed out last (the object the pulling agent delivers), and when.</summary>
    internal KafkaBatchContainer? HandedOut => _current;

    /// <summary>When <see cref="HandedOut"/> was handed out (again).</summary>
    internal DateTime HandedOutUtc { get; set; }

    /// <summary>The entry handed out last and not yet known to be delivered.</summary>
    internal KafkaQueueCache.Entry? Current { get; set; }

    /// <summary>The span of the delivery under way, when its events are traced; it ends when the cursor moves on.</summary>
    internal System.Diagnostics.Activity? Delivery { get; set; }

    /// <summary>The oldest entry of its stream this cursor has not delivered.</summary>
    internal long LowestUndeliveredSeq => Current?.Seq ?? NextSeq;

    public IBatchContainer? GetCurrent(out Exception? exception)
    {
        exception = null;
        return _current;
    }

    [Obsolete("Use MoveNextWithResult instead.")]
    public bool MoveNext() => MoveNextWithResult().Kind == QueueCacheCursorMoveResultKind.Success;

    public QueueCacheCursorMoveResult MoveNextWithResult()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _current = _cache.MoveNext(this, _current);
        return _current is not null ? QueueCacheCursorMoveResult.Success : QueueCacheCursorMoveResult.NoData;
    }

    public void Refresh(StreamSequenceToken token)
    {
        // A cursor always knows its position; new entries of its stream are found by the next move.
    }

    public void RecordDeliveryFailure() => _cache.RecordDeliveryFailure(this, _current);

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _cache.Remove(this);
        }
    }
}
