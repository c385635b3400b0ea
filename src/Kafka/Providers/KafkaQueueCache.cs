using Microsoft.Extensions.Logging;
using StreamGrains.Kafka.CachePressureMonitors;
using StreamGrains.Kafka.Statistics;

namespace StreamGrains.Kafka.Providers;

/// <summary>
/// The cache of one partition: batch containers in read order, indexed per stream, with a cursor per consumer.
/// </summary>
/// <remarks>
/// <para>An entry is delivered once every cursor of its stream has moved past it (the pulling agent moves a cursor
/// only after the consumer took the previous batch, or after its failure handler gave up on it) and, if a consumer
/// failed on it, once its records are in the dead-letter topic. The pulling agent pins a new stream's first entry with
/// a cursor until its subscribers have cursors of their own, so an entry is never counted as delivered before its
/// consumers are known.</para>
/// <para>The offset before which every entry is delivered goes to the checkpointer on every purge; entries are
/// ordered by their first offset, so that offset is the first offset of the oldest undelivered entry, or, when
/// everything is delivered, the end of the last read whose containers reached this cache.</para>
/// <para>Bounds: at most <see cref="KafkaQueueCacheOptions.MaxRecords"/> records and about
/// <see cref="KafkaQueueCacheOptions.MaxBytes"/> bytes (one record more at most). Reading pauses while undelivered
/// records fill 90 % of either; delivered entries stay for <see cref="KafkaQueueCacheOptions.RewindWindow"/>, so that
/// subscriptions can be rewound to their tokens, but never take more than half of either bound.</para>
/// </remarks>
internal sealed partial class KafkaQueueCache : IQueueCache
{
    private readonly Lock _gate = new();
    private readonly List<Entry> _entries = [];
    private readonly Dictionary<StreamId, StreamState> _streams = [];
    private readonly List<KafkaFailedDelivery> _failures = [];
    private readonly KafkaPartitionContext _partition;
    private readonly KafkaQueueCacheOptions _options;
    private readonly KafkaCachePressureMonitor _pressure;
    private readonly KafkaStreamMetrics _metrics;
    private readonly KafkaDeliveryErrors? _errors;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IDisposable _tracking;
    private readonly TimeSpan _maxEventDeliveryTime;
    private long _headSeq;
    private long _purgedUpToOffset = -1;
    private long _nextSeq;
    private long _deliveredUpToSeq;
    private int _records;
    private int _undeliveredRecords;
    private long _bytes;
    private long _undeliveredBytes;

    /// <param name="partition">The partition's shared state.</param>
    /// <param name="options">The cache's bounds.</param>
    /// <param name="metrics">The provider's instruments.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="errors">The errors failing deliveries returned, on this silo.</param>
    /// <param name="maxEventDeliveryTime">The pulling agent's retry budget for a failing consumer: a failure reported before it ran out is the agent giving up early (shutdown), not a consumer that keeps failing.</param>
    public KafkaQueueCache(KafkaPartitionContext partition, KafkaQueueCacheOptions options, KafkaStreamMetrics metrics, TimeProvider time, ILogger logger, KafkaDeliveryErrors? errors = null, TimeSpan? maxEventDeliveryTime = null)
    {
        _partition = partition;
        _options = options;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _errors = errors;
        _maxEventDeliveryTime = maxEventDeliveryTime ?? TimeSpan.Zero;
        _pressure = new KafkaCachePressureMonitor(options.MaxRecords, options.MaxBytes);
        partition.Cache?.Close(); // an earlier ownership whose receiver never got to close it
        _tracking = metrics.TrackCache(partition.Partition, Usage);
        partition.Cache = this;
    }

    /// <summary>Records cached, delivered or not.</summary>
    public int CachedRecords
    {
        get
        {
            lock (_gate)
            {
                return _records;
            }
        }
    }

    /// <summary>Key and value bytes cached, delivered or not.</summary>
    public long CachedBytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    /// <summary>Records not yet delivered to every consumer.</summary>
    public int UndeliveredRecords
    {
        get
        {
            lock (_gate)
            {
                return _undeliveredRecords;
            }
        }
    }

    /// <summary>Batches consumers failed on whose records are not in the dead-letter topic yet.</summary>
    public IReadOnlyList<KafkaFailedDelivery> PendingFailures
    {
        get
        {
            lock (_gate)
            {
                return _failures.ToList();
            }
        }
    }

    /// <remarks>
    /// Never 0: the pulling agent stops before purging when it is, and purging is what frees the cache. Reading pauses
    /// through <see cref="IsUnderPressure"/> instead, which the agent asks after purging. Also tells the receiver how
    /// many bytes its next read may take.
    /// </remarks>
    public int GetMaxAddCount()
    {
        lock (_gate)
        {
            _partition.ReadByteBudget = Math.Max(1, _options.MaxBytes - _bytes);
            return Math.Max(1, _options.MaxRecords - _records);
        }
    }

    public bool IsUnderPressure()
    {
        lock (_gate)
        {
            var under = _pressure.Record(_undeliveredRecords, _undeliveredBytes);
            if (under)
            {
                LogUnderPressure(_logger, _partition.Topic, _partition.Partition.Partition.Value, _undeliveredRecords, _undeliveredBytes);
            }

            return under;
        }
    }

    public void AddToCache(IList<IBatchContainer> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var now = _time.GetUtcNow().UtcDateTime;
        long readEnd = -1;
        lock (_gate)
        {
            foreach (var message in messages)
            {
                var batch = (KafkaBatchContainer)message;
                if (!_streams.TryGetValue(batch.StreamId, out var stream))
                {
                    stream = new StreamState(batch.StreamId);
                    _streams.Add(batch.StreamId, stream);
                }

                var entry = new Entry(_nextSeq++, batch, stream, now);
                _entries.Add(entry);
                stream.Entries.Add(entry);
                _records += entry.Records;
                _undeliveredRecords += entry.Records;
                _bytes += batch.Bytes;
                _undeliveredBytes += batch.Bytes;
                readEnd = Math.Max(readEnd, batch.ReadEnd);
            }
        }

        // Only now is the read handed over: a read the agent dropped on its way here never moves the checkpoint.
        if (readEnd > 0)
        {
            _partition.HandOver(readEnd);
        }
    }

    public bool TryPurgeFromCache(out IList<IBatchContainer> purgedItems)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        lock (_gate)
        {
            ReportDelivered(now);
            var purged = 0;
            while (purged < _entries.Count && _entries[purged].Seq < _deliveredUpToSeq)
            {
                var entry = _entries[purged];
                if (now - entry.AddedUtc < _options.RewindWindow && _records * 2 <= _options.MaxRecords && _bytes * 2 <= _options.MaxBytes)
                {
                    break;
                }

                _records -= entry.Records;
                _bytes -= entry.Batch.Bytes;
                _purgedUpToOffset = Math.Max(_purgedUpToOffset, entry.Batch.LastOffset);
                var stream = entry.Stream;
                stream.Entries.RemoveAt(0); // entries of a stream are purged in order, so this one is its oldest
                if (stream.Entries.Count == 0 && stream.Cursors.Count == 0)
                {
                    _streams.Remove(stream.Id);
                }

                purged++;
            }

            if (purged == 0)
            {
                purgedItems = [];
                return false;
            }

            purgedItems = _entries.GetRange(0, purged).Select(e => (IBatchContainer)e.Batch).ToList();
            _entries.RemoveRange(0, purged);
            _headSeq += purged;
            return true;
        }
    }

    /// <summary>The pulling agent's last word before it stops: report how far delivery got, for the final commit.</summary>
    public void UpdateDeliveryProgress(StreamSequenceToken? earliestSubscriptionToken, DateTime utcNow)
    {
        lock (_gate)
        {
            ReportDelivered(utcNow);
        }
    }

    [Obsolete("Use TryGetCacheCursor instead.")]
    public IQueueCacheCursor GetCacheCursor(StreamId streamId, StreamSequenceToken? token)
    {
        var result = TryGetCacheCursor(streamId, token);
        return result.Kind == QueueCacheCursorResultKind.Success ? result.Cursor! : throw result.CacheMiss!.Value.ToException();
    }

    /// <remarks>
    /// Without a token: at this partition's oldest entry not yet delivered to everyone (at-least-once rather than Orleans'
    /// pooled cache's newest entry). With a token: at its first offset; the events up to its last offset come as a
    /// batch of their own, so a consumer that already has them (a handshake's delivery token) skips exactly those.
    /// </remarks>
    public QueueCacheCursorResult<IQueueCacheCursor> TryGetCacheCursor(StreamId streamId, StreamSequenceToken? token)
    {
        lock (_gate)
        {
            long position;
            long? start = null;
            long? split = null;
            if (token is null)
            {
                position = _deliveredUpToSeq;
            }
            else
            {
                var partitionId = _partition.Partition.Partition.Value;
                start = token is KafkaSequenceToken range ? range.FirstOffset : token.SequenceNumber;
                split = token.SequenceNumber;
                var oldest = _entries.Count > 0 ? _entries[0].Batch.FirstOffset : _partition.HandedOverUpTo;
                // Older than the cache holds, at or below an offset some purged container reached (its other events
                // may be gone), or from another partition (the partition count changed): a miss, never a silent skip.
                if ((oldest >= 0 && start < oldest) || start <= _purgedUpToOffset || (token is KafkaSequenceToken kafka && kafka.Partition != partitionId))
                {
                    var low = new KafkaSequenceToken(partitionId, Math.Max(oldest, _purgedUpToOffset + 1));
                    var high = _entries.Count > 0 ? _entries[^1].Batch.SequenceToken : low;
                    return QueueCacheCursorResult<IQueueCacheCursor>.FromCacheMiss(new QueueCacheMissInfo(token, low, high));
                }

                position = -1;
            }

            var stream = StreamOf(streamId);
            if (start is { } from)
            {
                position = stream.Entries.FirstOrDefault(e => e.Batch.LastOffset >= from)?.Seq ?? _nextSeq;
            }

            return QueueCacheCursorResult<IQueueCacheCursor>.FromCursor(NewCursor(stream, position, start, split));
        }
    }

    /// <remarks><see cref="StreamSubscriptionStartPosition.EarliestAvailable"/>: at the stream's oldest cached entry.</remarks>
    public QueueCacheCursorResult<IQueueCacheCursor> TryGetCacheCursorAtPosition(StreamId streamId, StreamSubscriptionStartPosition startPosition)
    {
        if (startPosition != StreamSubscriptionStartPosition.EarliestAvailable)
        {
            return TryGetCacheCursor(streamId, null);
        }

        lock (_gate)
        {
            var stream = StreamOf(streamId);
            var position = stream.Entries.Count > 0 ? stream.Entries[0].Seq : _nextSeq;
            return QueueCacheCursorResult<IQueueCacheCursor>.FromCursor(NewCursor(stream, position, null, null));
        }
    }

    /// <summary>Moves a cursor to its stream's next events; the entry it held so far counts as delivered to it.</summary>
    /// <param name="cursor">The cursor.</param>
    /// <param name="handedOut">The batch the cursor handed out last.</param>
    internal KafkaBatchContainer? MoveNext(KafkaQueueCacheCursor cursor, KafkaBatchContainer? handedOut)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        lock (_gate)
        {
            Tracing.KafkaTracing.End(cursor.Delivery);
            cursor.Delivery = null;
            if (cursor.Current is not null && handedOut is not null && _errors?.Failed(handedOut) == true)
            {
                // The agent moves on from a batch whose last delivery failed without handing it to its failure handler
                // (a new handshake with the consumer ended the retries): offer it again rather than count it delivered.
                cursor.HandedOutUtc = now;
                LogOfferedAgain(_logger, _partition.Topic, _partition.Partition.Partition.Value, handedOut.FirstOffset, handedOut.LastOffset, cursor.Stream.Id.ToString());
                return handedOut;
            }

            if (cursor.Current is { } done)
            {
                cursor.Current = null;
                if (!done.LatencyRecorded)
                {
                    done.LatencyRecorded = true;
                    _metrics.Delivered(_partition.Topic, (_time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(done.Batch.LastTimestampMs)).TotalMilliseconds);
                }
            }

            var entries = cursor.Stream.Entries;
            var i = FirstIndexAtOrAfter(entries, cursor.NextSeq);
            while (i < entries.Count)
            {
                var entry = entries[i];
                var from = cursor.StartOffset ?? long.MinValue;
                // The first batch after a positioning by token ends at the token's last offset (see TryGetCacheCursor).
                var to = cursor.SplitAt is { } split && split < entry.Batch.LastOffset ? split : long.MaxValue;
                var batch = entry.Batch.Slice(from, to);
                if (to < entry.Batch.LastOffset)
                {
                    // More of this entry comes after the split: stay on it.
                    cursor.StartOffset = Math.Max(from, to + 1);
                    cursor.SplitAt = null;
                    cursor.NextSeq = entry.Seq;
                }
                else
                {
                    cursor.StartOffset = null;
                    if (cursor.SplitAt is { } pending && entry.Batch.LastOffset >= pending)
                    {
                        cursor.SplitAt = null; // the split point is reached; an entry that ends before it keeps it for the next
                    }

                    cursor.NextSeq = entry.Seq + 1;
                    i++;
                }

                if (batch is null)
                {
                    continue;
                }

                cursor.Current = entry;
                cursor.HandedOutUtc = now;
                if (batch.TraceParents is { } traceParents && Tracing.KafkaTracing.StartDeliver(entry.Stream.Id.GetNamespace() ?? _partition.Topic, traceParents) is { } delivery)
                {
                    cursor.Delivery = delivery;
                    batch = batch.WithDeliveryTrace(delivery.Id!);
                }

                return batch;
            }

            cursor.NextSeq = Math.Max(cursor.NextSeq, _nextSeq);
            return null;
        }
    }

    /// <summary>
    /// The pulling agent gave up delivering the cursor's current batch: its entry stays undelivered until the batch is
    /// in the dead-letter topic (<see cref="CompleteFailure"/>).
    /// </summary>
    internal void RecordDeliveryFailure(KafkaQueueCacheCursor cursor, KafkaBatchContainer? handedOut)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        lock (_gate)
        {
            if (cursor.Current is not { } entry || handedOut is null)
            {
                return;
            }

            if (now - cursor.HandedOutUtc < _maxEventDeliveryTime - TimeSpan.FromMilliseconds(100))
            {
                // The agent stopped retrying before its budget ran out: it is shutting down, or the consumer went away.
                // Not a consumer that keeps failing: the entry stays undelivered (the final commit stops before it), and
                // offered again if the cursor moves on.
                LogDeliveryAbandoned(_logger, _partition.Topic, _partition.Partition.Partition.Value, handedOut.FirstOffset, handedOut.LastOffset, cursor.Stream.Id.ToString());
                return;
            }

            _metrics.DeliveryFailed(_partition.Topic);

            var error = _errors?.Take(handedOut) is { } ex
                ? $"{ex.GetType().Name}: {ex.Message}"
                : "The consumer failed on this batch until the pulling agent's MaxEventDeliveryTime passed.";
            _failures.Add(new KafkaFailedDelivery(entry.Seq, handedOut, error));
            LogDeliveryFailed(_logger, _partition.Topic, _partition.Partition.Partition.Value, handedOut.FirstOffset, handedOut.LastOffset, cursor.Stream.Id.ToString());
        }
    }

    /// <summary>A failed batch is in the dead-letter topic: its entry may count as delivered.</summary>
    internal void CompleteFailure(KafkaFailedDelivery failure)
    {
        lock (_gate)
        {
            _failures.Remove(failure);
        }
    }

    internal void Remove(KafkaQueueCacheCursor cursor)
    {
        lock (_gate)
        {
            Tracing.KafkaTracing.End(cursor.Delivery);
            cursor.Delivery = null;
            var stream = cursor.Stream;
            stream.Cursors.Remove(cursor);
            if (stream.Entries.Count == 0 && stream.Cursors.Count == 0)
            {
                _streams.Remove(stream.Id);
            }
        }
    }

    /// <summary>Stops reporting this cache's metrics (its ownership ended).</summary>
    internal void Close()
    {
        _tracking.Dispose();
        if (_partition.Cache == this)
        {
            _partition.Cache = null;
        }
    }

    private StreamState StreamOf(StreamId streamId)
    {
        if (!_streams.TryGetValue(streamId, out var stream))
        {
            stream = new StreamState(streamId);
            _streams.Add(streamId, stream);
        }

        return stream;
    }

    private KafkaQueueCacheCursor NewCursor(StreamState stream, long position, long? start, long? split)
    {
        var cursor = new KafkaQueueCacheCursor(this, stream, position, start, split);
        stream.Cursors.Add(cursor);
        return cursor;
    }

    /// <summary>Hands the checkpointer the offset before which every event was delivered to every consumer.</summary>
    private void ReportDelivered(DateTime now)
    {
        AdvanceDelivered();
        var watermark = _deliveredUpToSeq < _nextSeq ? EntryAt(_deliveredUpToSeq).Batch.FirstOffset : _partition.HandedOverUpTo;
        if (watermark >= 0)
        {
            _partition.Checkpointer.Update(watermark, now);
        }
    }

    private void AdvanceDelivered()
    {
        var pinned = long.MaxValue;
        foreach (var failure in _failures)
        {
            pinned = Math.Min(pinned, failure.Seq);
        }

        while (_deliveredUpToSeq < _nextSeq && _deliveredUpToSeq < pinned)
        {
            var entry = EntryAt(_deliveredUpToSeq);
            foreach (var cursor in entry.Stream.Cursors)
            {
                if (cursor.LowestUndeliveredSeq <= entry.Seq)
                {
                    return;
                }
            }

            _deliveredUpToSeq++;
            _undeliveredRecords -= entry.Records;
            _undeliveredBytes -= entry.Batch.Bytes;
        }
    }

    private (int Undelivered, int Retained, long Bytes) Usage()
    {
        lock (_gate)
        {
            return (_undeliveredRecords, _records - _undeliveredRecords, _bytes);
        }
    }

    private Entry EntryAt(long seq) => _entries[checked((int)(seq - _headSeq))];

    private static int FirstIndexAtOrAfter(List<Entry> entries, long seq)
    {
        int low = 0, high = entries.Count;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            if (entries[mid].Seq < seq)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }

    internal sealed class Entry(long seq, KafkaBatchContainer batch, StreamState stream, DateTime addedUtc)
    {
        public long Seq { get; } = seq;

        public KafkaBatchContainer Batch { get; } = batch;

        public StreamState Stream { get; } = stream;

        public DateTime AddedUtc { get; } = addedUtc;

        public int Records => Batch.Events.Count;

        public bool LatencyRecorded { get; set; }
    }

    internal sealed class StreamState(StreamId id)
    {
        public StreamId Id { get; } = id;

        public List<Entry> Entries { get; } = [];

        public HashSet<KafkaQueueCacheCursor> Cursors { get; } = [];
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Cache of {Topic}[{Partition}] is under pressure: {Undelivered} records ({UndeliveredBytes} bytes) not yet delivered; reading pauses")]
    private static partial void LogUnderPressure(ILogger logger, string topic, int partition, int undelivered, long undeliveredBytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The delivery of {Topic}[{Partition}] offsets {First}..{Last} to a consumer of {Stream} failed and was not given up on: offering it again")]
    private static partial void LogOfferedAgain(ILogger logger, string topic, int partition, long first, long last, string stream);

    [LoggerMessage(Level = LogLevel.Information, Message = "The pulling agent stopped delivering {Topic}[{Partition}] offsets {First}..{Last} to a consumer of {Stream} before its retries ran out (shutdown?): the batch stays undelivered")]
    private static partial void LogDeliveryAbandoned(ILogger logger, string topic, int partition, long first, long last, string stream);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A consumer of {Stream} kept failing on {Topic}[{Partition}] offsets {First}..{Last}; the batch goes to the dead-letter topic")]
    private static partial void LogDeliveryFailed(ILogger logger, string topic, int partition, long first, long last, string stream);
}
