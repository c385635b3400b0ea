using StreamGrains.Aggregations.Sessions;
using StreamGrains.Aggregations.Windows;
using StreamGrains.Events;
using StreamGrains.Sketches;

namespace StreamGrains.Aggregations;

/// <summary>
/// The read-path half of an aggregation (Flink's local aggregation, Kafka Streams' record cache): for one partition it
/// takes each read's records, keeps the partition's watermark, assigns events to windows and pre-aggregates them per key
/// and window, so that each aggregator shard gets one batch per read instead of a call per event.
/// </summary>
/// <remarks>
/// <para>Event time is the event's <c>ts</c>. The partition's watermark is the highest event time read from it; an event
/// more than <see cref="AggregationLimits.MaxFutureSkew"/> ahead of the wall clock does not move it and is late (reason
/// <see cref="LateReason.FutureSkew"/>). Grouped by entity, a key is fed by this partition alone, so its watermark is
/// known here exactly, per record: an event whose time window is already final is late here (reason
/// <see cref="LateReason.WindowClosed"/>). Re-keyed groups (an attribute, or <c>*</c>) are fed by every partition, and
/// a session's lateness depends on the open sessions an event may join: for those the shard decides, and answers which
/// partials it did not take.</para>
/// <para>Shards: grouped by entity, the shard of this partition (<c>p&lt;partition&gt;</c>); re-keyed, one of
/// <c>shards</c> by the key's hash (<c>s&lt;n&gt;</c>).</para>
/// </remarks>
public sealed class PartitionPreAggregator
{
    /// <summary>How often every re-keyed shard hears this partition's watermark, even without partials for it.</summary>
    public const long HeartbeatMs = 1_000;

    private readonly int _partition;
    private readonly IReadOnlyList<AggregationDefinition> _definitions;
    private readonly long _maxFutureSkewMs;
    private readonly int _shards;
    private readonly int _inputPartitions;
    private readonly Dictionary<(string Aggregation, string Shard), long> _lastSent = [];
    private readonly Dictionary<(string Aggregation, string Shard), long> _covered = [];
    private readonly List<long> _starts = [];
    private readonly Dictionary<(string Aggregation, string Shard), long> _sentWatermark = [];
    private long _lastRecordsAtMs = long.MinValue;
    private long _nextOffset;
    private readonly string _entityShard;
    private readonly string[] _keyedShards;

    /// <summary>Creates the pre-aggregator of one partition.</summary>
    /// <param name="partition">The partition.</param>
    /// <param name="definitions">The aggregations.</param>
    /// <param name="limits">The shared settings.</param>
    /// <param name="shards">How many shards a re-keyed aggregation has.</param>
    /// <param name="inputPartitions">How many partitions the input topic has (each feeds every re-keyed shard).</param>
    public PartitionPreAggregator(int partition, IReadOnlyList<AggregationDefinition> definitions, AggregationLimits limits, int shards, int inputPartitions = 1)
    {
        ArgumentNullException.ThrowIfNull(definitions);
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        _partition = partition;
        _definitions = definitions;
        _maxFutureSkewMs = (long)limits.MaxFutureSkew.TotalMilliseconds;
        _shards = shards;
        _inputPartitions = inputPartitions;
        _entityShard = $"p{partition}";
        _keyedShards = [.. Enumerable.Range(0, shards).Select(s => $"s{s}")];
    }

    /// <summary>The partition's watermark (<see cref="long.MinValue"/> before any valid event).</summary>
    public long WatermarkMs { get; private set; } = long.MinValue;

    /// <summary>The shard a key of <paramref name="definition"/> belongs to, read from <paramref name="partition"/>.</summary>
    /// <param name="definition">The aggregation.</param>
    /// <param name="key">The group key.</param>
    /// <param name="partition">The partition its events come from (entity grouping), or any.</param>
    /// <param name="shards">Shards of a re-keyed aggregation.</param>
    public static string ShardOf(AggregationDefinition definition, string key, int partition, int shards)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return definition.Group == GroupKind.Entity
            ? $"p{partition}"
            : $"s{KeyedShard(key, shards)}";
    }

    /// <summary>The shard (0 to <paramref name="shards"/> - 1) a key of a re-keyed aggregation belongs to.</summary>
    private static int KeyedShard(string key, int shards) => (int)(HyperLogLog.Hash(key) % (ulong)shards);

    /// <summary>
    /// Tells that a shard already took this partition's records below <paramref name="offset"/> (asked of it when a
    /// silo starts reading the partition, or reads it again after a rewind): those records are not given to it again,
    /// so that a shard that outlived a partition's move counts nothing twice.
    /// </summary>
    /// <param name="aggregation">The aggregation.</param>
    /// <param name="shard">The shard.</param>
    /// <param name="offset">The offset the shard covers up to.</param>
    public void Covered(string aggregation, string shard, long offset) => _covered[(aggregation, shard)] = offset;

    /// <summary>The shards this partition feeds, by aggregation.</summary>
    public IEnumerable<(AggregationDefinition Definition, string Shard)> Shards() =>
        _definitions.SelectMany(d => d.Group == GroupKind.Entity
            ? [(d, $"p{_partition}")]
            : Enumerable.Range(0, _shards).Select(s => (d, $"s{s}")));

    /// <summary>Pre-aggregates one read.</summary>
    /// <param name="records">The read's valid records: offset and event, in offset order.</param>
    /// <param name="nowMs">The wall clock.</param>
    public PreAggregatedRead Read(IReadOnlyList<(long Offset, StreamEvent Event)> records, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(records);
        var late = new List<LateRecord>();
        var partials = new Dictionary<(string Aggregation, string Shard), ShardPartials>();
        for (var i = 0; i < records.Count; i++)
        {
            var evt = records[i].Event;
            var time = AggregationDefinition.TimeOf(evt);
            var future = time > nowMs + _maxFutureSkewMs;
            if (!future)
            {
                WatermarkMs = Math.Max(WatermarkMs, time);
            }

            for (var d = 0; d < _definitions.Count; d++)
            {
                var definition = _definitions[d];
                if (!definition.Takes(evt) || definition.KeyOf(evt) is not { } key)
                {
                    continue;
                }

                if (future)
                {
                    late.Add(new LateRecord(i, definition.Name, LateReason.FutureSkew));
                    continue;
                }

                var local = definition.Group == GroupKind.Entity; // this partition's watermark is the key's
                var shard = local ? _entityShard : _keyedShards[KeyedShard(key, _shards)]; // as ShardOf, without a string per record
                if (records[i].Offset < _covered.GetValueOrDefault((definition.Name, shard)))
                {
                    continue; // the shard took it already (before a rewind, or from the partition's previous reader)
                }

                if (!partials.TryGetValue((definition.Name, shard), out var target))
                {
                    partials[(definition.Name, shard)] = target = new ShardPartials(definition, shard);
                }

                if (definition.Window.Kind == WindowKind.Session)
                {
                    // Whether it is late depends on the open sessions it may join, which the shard holds: it decides.
                    target.SessionEvents(key).Add(i);
                    continue;
                }

                if (definition.Window.Kind == WindowKind.Sliding)
                {
                    // The events of one millisecond make one point; the shard makes the windows out of the points.
                    if (local && time + 1 + definition.AllowedLatenessMs <= WatermarkMs)
                    {
                        late.Add(new LateRecord(i, definition.Name, LateReason.WindowClosed));
                    }
                    else
                    {
                        target.Add(key, time, evt, i);
                    }

                    continue;
                }

                definition.Window.StartsOf(time, _starts);
                var closed = false;
                foreach (var start in _starts)
                {
                    if (local && start + definition.Window.SizeMs + definition.AllowedLatenessMs <= WatermarkMs)
                    {
                        closed = true; // this window is final; the event still counts in its other (hopping) windows
                        continue;
                    }

                    target.Add(key, start, evt, i);
                }

                if (closed)
                {
                    late.Add(new LateRecord(i, definition.Name, LateReason.WindowClosed));
                }
            }
        }

        var nextOffset = records.Count > 0 ? records[^1].Offset + 1 : 0;
        var batches = new List<ShardBatch>();
        foreach (var target in partials.Values)
        {
            batches.Add(target.ToBatch(_partition, WatermarkMs, nowMs, nextOffset, records, InputPartitionsOf(target.Definition)));
            Sent(target.Definition, target.Shard, nowMs);
        }

        if (records.Count > 0)
        {
            _lastRecordsAtMs = nowMs;
            _nextOffset = nextOffset;
        }

        // Watermark-only batches: the entity shard after every read that moved the watermark; every re-keyed shard now
        // and then, so that windows close when time passes, not only when their key gets events.
        if (records.Count > 0 && WatermarkMs != long.MinValue)
        {
            foreach (var definition in _definitions)
            {
                var shards = definition.Group == GroupKind.Entity ? [_entityShard] : _keyedShards;
                foreach (var shard in shards)
                {
                    if (partials.ContainsKey((definition.Name, shard)) ||
                        (definition.Group != GroupKind.Entity && nowMs - _lastSent.GetValueOrDefault((definition.Name, shard), long.MinValue / 2) < HeartbeatMs))
                    {
                        continue;
                    }

                    batches.Add(new ShardBatch(definition, shard, new AggregationBatch(_partition, WatermarkMs, nowMs, nextOffset, [], [], InputPartitionsOf(definition)), [], []));
                    Sent(definition, shard, nowMs);
                }
            }
        }

        return new PreAggregatedRead(batches, late);
    }

    /// <summary>
    /// Watermark-only batches for the re-keyed shards that have not yet heard this partition's latest watermark (a read
    /// sends them at most every <see cref="HeartbeatMs"/>, so the last advance before the traffic stops would otherwise
    /// never reach them, and their windows would stay open): at most one per shard every <see cref="HeartbeatMs"/>. Call
    /// it now and then between reads, never during one, and <see cref="Delivered"/> once the shards took them.
    /// </summary>
    /// <param name="nowMs">The wall clock.</param>
    public IReadOnlyList<ShardBatch> Heartbeats(long nowMs)
    {
        var batches = new List<ShardBatch>();
        if (WatermarkMs == long.MinValue)
        {
            return batches;
        }

        for (var d = 0; d < _definitions.Count; d++)
        {
            var definition = _definitions[d];
            if (definition.Group == GroupKind.Entity)
            {
                continue; // told after every read that moved the watermark
            }

            foreach (var shard in _keyedShards)
            {
                if (_sentWatermark.GetValueOrDefault((definition.Name, shard), long.MinValue) >= WatermarkMs ||
                    nowMs - _lastSent.GetValueOrDefault((definition.Name, shard), long.MinValue / 2) < HeartbeatMs)
                {
                    continue;
                }

                // The partition was last active when its last records were read: an idle partition stays idle.
                batches.Add(new ShardBatch(definition, shard, new AggregationBatch(_partition, WatermarkMs, _lastRecordsAtMs, _nextOffset, [], [], InputPartitionsOf(definition)), [], []));
            }
        }

        return batches;
    }

    /// <summary>Notes that the shards took the <see cref="Heartbeats"/> given: they are not sent again until the watermark moves.</summary>
    /// <param name="heartbeats">The heartbeats.</param>
    /// <param name="nowMs">When they were sent.</param>
    public void Delivered(IReadOnlyList<ShardBatch> heartbeats, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(heartbeats);
        foreach (var heartbeat in heartbeats)
        {
            _lastSent[(heartbeat.Definition.Name, heartbeat.Shard)] = nowMs;
            _sentWatermark[(heartbeat.Definition.Name, heartbeat.Shard)] = Math.Max(_sentWatermark.GetValueOrDefault((heartbeat.Definition.Name, heartbeat.Shard), long.MinValue), heartbeat.Batch.WatermarkMs);
        }
    }

    private void Sent(AggregationDefinition definition, string shard, long nowMs)
    {
        _lastSent[(definition.Name, shard)] = nowMs;
        _sentWatermark[(definition.Name, shard)] = WatermarkMs;
    }

    private int InputPartitionsOf(AggregationDefinition definition) => definition.Group == GroupKind.Entity ? 0 : _inputPartitions;

    private sealed class ShardPartials(AggregationDefinition definition, string shard)
    {
        private readonly Dictionary<(string Key, long Start), (WindowAggregate Aggregate, List<int> Records)> _windows = [];
        private readonly Dictionary<string, List<int>> _sessionEvents = new(StringComparer.Ordinal);

        public AggregationDefinition Definition { get; } = definition;

        public string Shard { get; } = shard;

        public void Add(string key, long start, StreamEvent evt, int record)
        {
            if (!_windows.TryGetValue((key, start), out var window))
            {
                _windows[(key, start)] = window = (new WindowAggregate(), []);
            }

            window.Aggregate.Add(evt);
            window.Records.Add(record);
        }

        public List<int> SessionEvents(string key)
        {
            if (!_sessionEvents.TryGetValue(key, out var events))
            {
                _sessionEvents[key] = events = [];
            }

            return events;
        }

        public ShardBatch ToBatch(int partition, long watermark, long nowMs, long nextOffset, IReadOnlyList<(long Offset, StreamEvent Event)> records, int inputPartitions)
        {
            var windows = new List<WindowPartial>(_windows.Count);
            var windowRecords = new List<IReadOnlyList<int>>(_windows.Count);
            foreach (var ((key, start), (aggregate, indexes)) in _windows)
            {
                windows.Add(new WindowPartial(key, start, aggregate));
                windowRecords.Add(indexes);
            }

            // The read's events of a key, in event-time order, cut into sessions where the gap says; the shard merges
            // them with what it holds (and cuts them at the maximum duration, by event time).
            var sessions = new List<SessionPartial>();
            var sessionRecords = new List<IReadOnlyList<int>>();
            var spec = Definition.Window;
            foreach (var (key, indexes) in _sessionEvents)
            {
                SessionAggregate? current = null;
                List<int>? members = null;
                foreach (var index in indexes.OrderBy(i => AggregationDefinition.TimeOf(records[i].Event)).ThenBy(i => i))
                {
                    var evt = records[index].Event;
                    var time = AggregationDefinition.TimeOf(evt);
                    var next = new SessionAggregate(time, evt.Type, keepEvents: spec.MaxDurationMs > 0);
                    if (current is not null && time - current.End <= spec.GapMs)
                    {
                        current.Merge(next);
                        members!.Add(index);
                        continue;
                    }

                    if (current is not null)
                    {
                        sessions.Add(new SessionPartial(key, current));
                        sessionRecords.Add(members!);
                    }

                    current = next;
                    members = [index];
                }

                if (current is not null)
                {
                    sessions.Add(new SessionPartial(key, current));
                    sessionRecords.Add(members!);
                }
            }

            return new ShardBatch(Definition, Shard, new AggregationBatch(partition, watermark, nowMs, nextOffset, windows, sessions, inputPartitions), windowRecords, sessionRecords);
        }
    }
}

/// <summary>What one read gives the aggregations: a batch per shard, and the records that are late.</summary>
/// <param name="Batches">The batches, with which records each partial holds.</param>
/// <param name="Late">Late records, by index into the read (a record may be late for several aggregations).</param>
public sealed record PreAggregatedRead(IReadOnlyList<ShardBatch> Batches, IReadOnlyList<LateRecord> Late);

/// <summary>A batch for one shard of one aggregation.</summary>
/// <param name="Definition">The aggregation.</param>
/// <param name="Shard">The shard (<c>p&lt;partition&gt;</c> or <c>s&lt;n&gt;</c>).</param>
/// <param name="Batch">The batch.</param>
/// <param name="WindowRecords">For each window partial, the indexes of its records in the read.</param>
/// <param name="SessionRecords">For each session partial, the indexes of its records in the read.</param>
public sealed record ShardBatch(AggregationDefinition Definition, string Shard, AggregationBatch Batch, IReadOnlyList<IReadOnlyList<int>> WindowRecords, IReadOnlyList<IReadOnlyList<int>> SessionRecords)
{
    /// <summary>The aggregator grain's key: aggregation and shard.</summary>
    public string GrainKey => $"{Definition.Name}/{Shard}";
}

/// <summary>A record that is late for an aggregation.</summary>
/// <param name="Record">Its index in the read.</param>
/// <param name="Aggregation">The aggregation.</param>
/// <param name="Reason">Why.</param>
public readonly record struct LateRecord(int Record, string Aggregation, LateReason Reason);

/// <summary>Why a record is late.</summary>
public enum LateReason
{
    /// <summary>A window (or session) it belongs to was already final.</summary>
    WindowClosed,

    /// <summary>Its event time is further ahead of the wall clock than the maximum future skew.</summary>
    FutureSkew,
}
