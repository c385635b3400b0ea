using Microsoft.Extensions.Logging;
using StreamGrains.Kafka.CachePressureMonitors;
using StreamGrains.Kafka.Statistics;

namespace StreamGrains.Kafka.Providers;

/// <summary>
/// The cache of one partition: batch containers in read order, indexed per stream, with a cursor per consumer.
/// </summary>
/// <remarks>
/// <para>An entry is delivered once every cursor of its stream has moved past it (the pulling agent moves a cursor
/// only after the consumer took the previous batch, or after its failure handler gave up on it). The pulling agent pins
/// a new stream's first entry with a cursor until its subscribers have cursors of their own, so an entry is never
/// counted as delivered before its consumers are known.</para>
/// <para>The offset before which every entry is delivered goes to the checkpointer on every purge; entries are
/// ordered by their first offset, so that offset is the first offset of the oldest undelivered entry, or the read
/// position when everything is delivered.</para>
/// <para>Delivered entries stay for <see cref="KafkaQueueCacheOptions.RewindWindow"/> (or while they fill less than
/// half the cache) so that subscriptions can be rewound to their tokens.</para>
/// </remarks>
internal sealed partial class KafkaQueueCache : IQueueCache
{
    private readonly Lock _gate = new();
    private readonly List<Entry> _entries = [];
    private readonly Dictionary<StreamId, StreamState> _streams = [];
    private readonly KafkaPartitionContext _partition;
    private readonly KafkaQueueCacheOptions _options;
    private readonly KafkaCachePressureMonitor _pressure;
    private readonly KafkaStreamMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private long _headSeq;
    private long _purgedUpToOffset = -1;
    private long _nextSeq;
    private long _deliveredUpToSeq;
    private int _records;
    private int _undeliveredRecords;

    public KafkaQueueCache(KafkaPartitionContext partition, KafkaQueueCacheOptions options, KafkaStreamMetrics metrics, TimeProvider time, ILogger logger)
    {
        _partition = partition;
        _options = options;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _pressure = new KafkaCachePressureMonitor(options.MaxRecords);
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

    /// <remarks>
    /// Never 0: the pulling agent stops before purging when it is, and purging is what frees the cache. Reading pauses
    /// through <see cref="IsUnderPressure"/> instead, which the agent asks after purging.
    /// </remarks>
    public int GetMaxAddCount()
    {
        lock (_gate)
        {
            return Math.Max(1, _options.MaxRecords - _undeliveredRecords);
        }
    }

    public bool IsUnderPressure()
    {
        lock (_gate)
        {
            var under = _pressure.Record(_undeliveredRecords);
            if (under)
            {
                LogUnderPressure(_logger, _partition.Topic, _partition.Partition.Partition.Value, _undeliveredRecords);
            }

            return under;
        }
    }

    public void AddToCache(IList<IBatchContainer> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var now = _time.GetUtcNow().UtcDateTime;
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
            }
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
                if (now - entry.AddedUtc < _options.RewindWindow && _records * 2 <= _options.MaxRecords)
                {
                    break;
                }

                _records -= entry.Records;
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

    public IQueueCacheCursor GetCacheCursor(StreamId streamId, StreamSequenceToken? token)
    {
        lock (_gate)
        {
            long position;
            long? startOffset = null;
            if (token is null)
            {
                // No position asked for: start at this stream's oldest entry not yet delivered to everyone
                // (at-least-once rather than Orleans' pooled cache's newest entry).
                position = _deliveredUpToSeq;
            }
            else
            {
                var offset = token.SequenceNumber;
                var partitionId = _partition.Partition.Partition.Value;
                var oldest = _entries.Count > 0 ? _entries[0].Batch.FirstOffset : _partition.ReadUpTo;
                // Older than the cache holds, at or below an offset some purged container reached (its other events
                // may be gone), or from another partition (the partition count changed): a miss, never a silent skip.
                if ((oldest >= 0 && offset < oldest) || offset <= _purgedUpToOffset || (token is KafkaSequenceToken kafka && kafka.Partition != partitionId))
                {
                    var newest = _entries.Count > 0 ? _entries[^1].Batch.SequenceToken : token;
                    throw new QueueCacheMissException(token, new KafkaSequenceToken(partitionId, Math.Max(oldest, _purgedUpToOffset + 1)), newest);
                }

                position = -1;
                startOffset = offset;
            }

            if (!_streams.TryGetValue(streamId, out var stream))
            {
                stream = new StreamState(streamId);
                _streams.Add(streamId, stream);
            }

            if (startOffset is { } from)
            {
                position = stream.Entries.FirstOrDefault(e => e.Batch.LastOffset >= from)?.Seq ?? _nextSeq;
            }

            var cursor = new KafkaQueueCacheCursor(this, stream, position, startOffset);
            stream.Cursors.Add(cursor);
            return cursor;
        }
    }

    /// <summary>Moves a cursor to its stream's next entry; the entry it held so far counts as delivered to it.</summary>
    internal KafkaBatchContainer? MoveNext(KafkaQueueCacheCursor cursor)
    {
        lock (_gate)
        {
            Tracing.KafkaTracing.End(cursor.Delivery);
            cursor.Delivery = null;
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
            for (var i = FirstIndexAtOrAfter(entries, cursor.NextSeq); i < entries.Count; i++)
            {
                var entry = entries[i];
                cursor.NextSeq = entry.Seq + 1;
                var batch = cursor.StartOffset is { } start ? entry.Batch.From(start) : entry.Batch;
                if (batch is null)
                {
                    continue;
                }

                cursor.StartOffset = null;
                cursor.Current = entry;
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

    internal void RecordDeliveryFailure() => _metrics.DeliveryFailed(_partition.Topic);

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

    /// <summary>Hands the checkpointer the offset before which every event was delivered to every consumer.</summary>
    private void ReportDelivered(DateTime now)
    {
        AdvanceDelivered();
        var watermark = _deliveredUpToSeq < _nextSeq ? EntryAt(_deliveredUpToSeq).Batch.FirstOffset : _partition.ReadUpTo;
        if (watermark >= 0)
        {
            _partition.Checkpointer.Update(watermark, now);
        }
    }

    private void AdvanceDelivered()
    {
        while (_deliveredUpToSeq < _nextSeq)
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

    [LoggerMessage(Level = LogLevel.Debug, Message = "Cache of {Topic}[{Partition}] is under pressure: {Undelivered} records not yet delivered; reading pauses")]
    private static partial void LogUnderPressure(ILogger logger, string topic, int partition, int undelivered);
}
