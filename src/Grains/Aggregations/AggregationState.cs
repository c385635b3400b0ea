using StreamGrains.Aggregations.Sessions;
using StreamGrains.Aggregations.Windows;

namespace StreamGrains.Aggregations;

/// <summary>
/// What one aggregator shard holds of one aggregation: per key its open windows (or sessions), the final ones still
/// retained, and which partitions feed it; per partition its watermark, when it last had a record and the offset the
/// shard covers. It merges the partitions' partial batches, decides what is late and what is final, and answers queries.
/// </summary>
/// <remarks>
/// <para>The watermark is the lowest watermark of the partitions that feed the shard (a shard of a key grouped by entity
/// is fed by its partition alone; a re-keyed shard by every partition, as a Flink operator by all its input channels),
/// leaving out partitions without records for the idle timeout (when all are idle: the highest). A time window is final once the key's watermark reached its
/// end plus the allowed lateness, a session once it reached its last event plus the gap plus the lateness. A partial for
/// a window or session that is already final is late: it is not taken, and the caller sends its events to
/// <c>events.late</c>.</para>
/// <para>Final windows and closed sessions stay queryable until the key's watermark passed them by the retention.</para>
/// </remarks>
[GenerateSerializer, Alias("sg.aggregation-state")]
public sealed class AggregationState
{
    [Id(0)] private readonly Dictionary<int, PartitionMark> _partitions = [];
    [Id(1)] private readonly Dictionary<string, KeyState> _keys = new(StringComparer.Ordinal);
    [Id(2)] private int _inputPartitions;
    [Id(3)] private long _firstHeardAtMs = long.MinValue;
    [NonSerialized] private PriorityQueue<string, long>? _due;

    /// <summary>Keys held.</summary>
    public int KeyCount => _keys.Count;

    /// <summary>The partitions that fed this shard, with their watermarks.</summary>
    public IReadOnlyDictionary<int, PartitionMark> Partitions => _partitions;

    /// <summary>The offset of <paramref name="partition"/> up to which this state covers its records (0: none).</summary>
    /// <param name="partition">The partition.</param>
    public long CoveredOffset(int partition) => _partitions.TryGetValue(partition, out var mark) ? mark.NextOffset : 0;

    /// <summary>Takes a batch in: its partials (unless late), then its watermark; then closes what became final.</summary>
    /// <param name="definition">The aggregation.</param>
    /// <param name="batch">The batch.</param>
    /// <param name="nowMs">The wall clock, for idleness.</param>
    /// <param name="idleMs">The idle timeout.</param>
    /// <param name="emitted">Receives the windows and sessions that became final.</param>
    public AggregationReply Merge(AggregationDefinition definition, AggregationBatch batch, long nowMs, long idleMs, List<AggregationResult> emitted)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(batch);
        var mark = _partitions.TryGetValue(batch.Partition, out var known) ? known : new PartitionMark(long.MinValue, 0, 0);
        var hasPartials = batch.Windows.Count > 0 || batch.Sessions.Count > 0;
        if (hasPartials && batch.NextOffset <= mark.NextOffset)
        {
            return new AggregationReply([], [], Replayed: true); // read again after a restart or rewind: already counted
        }

        List<int>? lateWindows = null, lateSessions = null;
        var spec = definition.Window;
        var lateness = definition.AllowedLatenessMs;
        var watermark = Watermark(nowMs, idleMs); // as it stands before this batch: a window it passed is final
        for (var i = 0; i < batch.Windows.Count; i++)
        {
            var partial = batch.Windows[i];
            var key = KeyOf(partial.Key);
            // A sliding window partial is a point (the events of one millisecond): late once its own window is final.
            var end = spec.Kind == WindowKind.Sliding ? partial.StartMs + 1 : partial.StartMs + spec.SizeMs;
            if (end <= key.FinalEnd || (watermark != long.MinValue && end + lateness <= watermark))
            {
                (lateWindows ??= []).Add(i);
                continue;
            }

            if (key.Open.TryGetValue(partial.StartMs, out var open))
            {
                open.Merge(partial.Aggregate);
            }
            else
            {
                key.Open.Add(partial.StartMs, partial.Aggregate);
            }

            Schedule(partial.Key, key, end + definition.AllowedLatenessMs);
        }

        for (var i = 0; i < batch.Sessions.Count; i++)
        {
            var partial = batch.Sessions[i];
            var key = KeyOf(partial.Key);
            // Late: it would join a closed session, or it joins no open one and a session of its own would be final.
            var joinsClosed = key.Closed.Any(c => partial.Session.Start <= c.Session.JoinableUntil && c.Session.Start - spec.GapMs <= partial.Session.End);
            var joinsOpen = key.Sessions.Open.Any(o => o.Touches(partial.Session, spec.GapMs));
            if (joinsClosed || (!joinsOpen && (partial.Session.End <= key.FinalEnd || (watermark != long.MinValue && partial.Session.End + spec.GapMs + lateness <= watermark))))
            {
                (lateSessions ??= []).Add(i);
                continue;
            }

            key.Sessions.Add(partial.Session, spec);
            Schedule(partial.Key, key, key.Sessions.NextClose(spec, definition.AllowedLatenessMs));
        }

        _inputPartitions = Math.Max(_inputPartitions, batch.InputPartitions);
        if (_firstHeardAtMs == long.MinValue)
        {
            _firstHeardAtMs = nowMs;
        }

        _partitions[batch.Partition] = new PartitionMark(
            Math.Max(mark.WatermarkMs, batch.WatermarkMs),
            Math.Max(mark.LastRecordAtMs, batch.LastRecordAtMs),
            Math.Max(mark.NextOffset, batch.NextOffset));
        Close(definition, nowMs, idleMs, emitted);
        return lateWindows is null && lateSessions is null
            ? AggregationReply.AllTaken
            : new AggregationReply(lateWindows ?? [], lateSessions ?? [], Replayed: false);
    }

    /// <summary>Closes whatever the watermarks (and idleness, as time passes) made final, and forgets what retention let go.</summary>
    /// <param name="definition">The aggregation.</param>
    /// <param name="nowMs">The wall clock.</param>
    /// <param name="idleMs">The idle timeout.</param>
    /// <param name="emitted">Receives the windows and sessions that became final, by key and time.</param>
    public void Close(AggregationDefinition definition, long nowMs, long idleMs, List<AggregationResult> emitted)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(emitted);
        if (_partitions.Count == 0)
        {
            return;
        }

        var watermark = Watermark(nowMs, idleMs);
        if (watermark == long.MinValue)
        {
            return; // not every partition has had its say yet: nothing is final
        }

        var due = Due();
        List<(string, long)>? blocked = null;
        while (due.TryPeek(out var name, out var at) && at <= watermark)
        {
            due.Dequeue();
            if (!_keys.TryGetValue(name, out var key) || key.ScheduledDue != at)
            {
                continue; // superseded
            }

            key.ScheduledDue = long.MaxValue;
            CloseKey(definition, name, key, watermark, emitted);
            var next = NextDue(definition, key);
            if (next == long.MaxValue && key.IsEmpty)
            {
                _keys.Remove(name);
            }
            else if (next <= watermark)
            {
                // Cannot happen (everything due at the watermark was closed); guards against a loop.
                (blocked ??= []).Add((name, watermark + 1));
            }
            else if (next != long.MaxValue)
            {
                (blocked ??= []).Add((name, next)); // pushed after the loop
            }
        }

        foreach (var (name, next) in blocked ?? [])
        {
            Schedule(name, _keys[name], next);
        }
    }

    /// <summary>A key's windows overlapping [<paramref name="fromMs"/>, <paramref name="toMs"/>), open and final, by start; null for a key never seen (or forgotten).</summary>
    /// <param name="definition">The aggregation.</param>
    /// <param name="key">The group key.</param>
    /// <param name="fromMs">The earliest end, exclusive.</param>
    /// <param name="toMs">The latest start, exclusive.</param>
    public IReadOnlyList<AggregateWindow>? Windows(AggregationDefinition definition, string key, long fromMs, long toMs)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (!_keys.TryGetValue(key, out var state))
        {
            return null;
        }

        var size = definition.Window.SizeMs;
        var points = definition.Window.Kind == WindowKind.Sliding ? state.Open.Keys.ToArray() : [];
        var open = definition.Window.Kind == WindowKind.Sliding
            ? SlidingStarts(points, definition.Window, state.FinalEnd, long.MaxValue).Select(s => (StartMs: s, Aggregate: SlidingAggregate(state, points, s, definition.Window), Final: false))
            : state.Open.Select(o => (StartMs: o.Key, Aggregate: o.Value, Final: false));
        return state.Finals.Select(f => (f.StartMs, f.View))
            .Concat(open.Select(o => (o.StartMs, View: AggregationResult.View(o.StartMs, o.StartMs + size, o.Aggregate, o.Final))))
            .Where(w => w.StartMs + size > fromMs && w.StartMs < toMs)
            .OrderBy(w => w.StartMs)
            .Select(w => w.View)
            .ToList();
    }

    /// <summary>A key's open and retained closed sessions, by start; null for a key never seen (or forgotten).</summary>
    /// <param name="key">The group key.</param>
    public IReadOnlyList<SessionView>? Sessions(string key)
    {
        if (!_keys.TryGetValue(key, out var state))
        {
            return null;
        }

        return state.Closed.Select(c => AggregationResult.View(c.Session, closed: true))
            .Concat(state.Sessions.Open.Select(s => AggregationResult.View(s, closed: false)))
            .OrderBy(s => s.Start)
            .ToList();
    }

    /// <summary>
    /// Every window ending at or before this is final in this shard (its watermark less the lateness); long.MinValue
    /// while its watermark is unknown, long.MaxValue when all its partitions are idle (it holds nothing back). The
    /// lowest over an aggregation's shards is where every shard has finished.
    /// </summary>
    /// <param name="definition">The aggregation.</param>
    /// <param name="nowMs">The wall clock.</param>
    /// <param name="idleMs">The idle timeout.</param>
    public long FinalHorizon(AggregationDefinition definition, long nowMs, long idleMs)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (_partitions.Count > 0 && _partitions.Values.All(p => nowMs - p.LastRecordAtMs >= idleMs))
        {
            return long.MaxValue;
        }

        var watermark = _partitions.Count == 0 ? long.MinValue : Watermark(nowMs, idleMs);
        return watermark == long.MinValue ? long.MinValue : watermark - definition.AllowedLatenessMs;
    }

    /// <summary>The keys with the highest counts in the latest final window (by end) this shard holds that ends by <paramref name="endAtMost"/>.</summary>
    /// <param name="definition">The aggregation.</param>
    /// <param name="top">How many.</param>
    /// <param name="endAtMost">The latest window end to consider (the horizon every shard has finished).</param>
    public IReadOnlyList<KeyCount> Top(AggregationDefinition definition, int top, long endAtMost = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var size = definition.Window.SizeMs;
        var latest = _keys.Values.SelectMany(k => k.Finals).Select(f => f.StartMs).Where(s => s + size <= endAtMost).DefaultIfEmpty(long.MinValue).Max();
        if (latest == long.MinValue)
        {
            return [];
        }

        return _keys
            .SelectMany(k => k.Value.Finals.Where(f => f.StartMs == latest).Select(f => new KeyCount(k.Key, f.View.Count, AggregationResult.Time(latest), AggregationResult.Time(latest + size))))
            .OrderByDescending(k => k.Count)
            .ThenBy(k => k.Key, StringComparer.Ordinal)
            .Take(top)
            .ToList();
    }

    private KeyState KeyOf(string name)
    {
        if (!_keys.TryGetValue(name, out var key))
        {
            key = new KeyState();
            _keys.Add(name, key);
        }

        return key;
    }

    /// <summary>
    /// The lowest watermark of the partitions with a record within the idle timeout; all idle: the highest. A partition
    /// of the input not heard of yet holds everything back until the idle timeout passed since the shard first heard of
    /// any (a re-keyed shard must not close a window before every partition had its say).
    /// </summary>
    private long Watermark(long nowMs, long idleMs)
    {
        long lowestActive = long.MaxValue, highest = long.MinValue;
        if (_partitions.Count < _inputPartitions && nowMs - _firstHeardAtMs < idleMs)
        {
            return long.MinValue;
        }

        foreach (var mark in _partitions.Values)
        {
            highest = Math.Max(highest, mark.WatermarkMs);
            if (nowMs - mark.LastRecordAtMs < idleMs)
            {
                lowestActive = Math.Min(lowestActive, mark.WatermarkMs);
            }
        }

        return lowestActive != long.MaxValue ? lowestActive : highest;
    }

    private static void CloseKey(AggregationDefinition definition, string name, KeyState key, long watermark, List<AggregationResult> emitted)
    {
        var spec = definition.Window;
        var lateness = definition.AllowedLatenessMs;
        if (spec.Kind == WindowKind.Sliding)
        {
            CloseSliding(definition, name, key, watermark, emitted);
            return;
        }

        key.FinalEnd = Math.Max(key.FinalEnd, watermark - lateness - (spec.Kind == WindowKind.Session ? spec.GapMs : 0));
        if (spec.Kind == WindowKind.Session)
        {
            var closed = new List<SessionAggregate>();
            key.Sessions.Close(watermark, spec, lateness, closed);
            foreach (var session in closed)
            {
                key.Closed.Add(new ClosedSession(session));
                emitted.Add(new AggregationResult(name, session.Start, session.End, null, session));
            }

            key.Closed.RemoveAll(c => c.Session.End + definition.RetentionMs <= watermark);
            return;
        }

        while (key.Open.Count > 0)
        {
            var (start, aggregate) = key.Open.First();
            if (start + spec.SizeMs + lateness > watermark)
            {
                break;
            }

            key.Open.Remove(start);
            key.Finals.Add(new FinalWindow(start, AggregationResult.View(start, start + spec.SizeMs, aggregate, final: true)));
            emitted.Add(new AggregationResult(name, start, start + spec.SizeMs, aggregate, null));
        }

        key.Finals.RemoveAll(f => f.StartMs + spec.SizeMs + definition.RetentionMs <= watermark);
    }

    /// <summary>
    /// Sliding windows (KIP-450) out of a key's points: every window whose end the watermark passed (by the lateness)
    /// since the last look, each once, with the points it holds; then the points no later window needs are dropped.
    /// </summary>
    private static void CloseSliding(AggregationDefinition definition, string name, KeyState key, long watermark, List<AggregationResult> emitted)
    {
        var spec = definition.Window;
        var previous = key.FinalEnd;
        var final = watermark - definition.AllowedLatenessMs;
        if (final > previous)
        {
            var points = key.Open.Keys.ToArray();
            foreach (var start in SlidingStarts(points, spec, previous, final))
            {
                var aggregate = SlidingAggregate(key, points, start, spec);
                key.Finals.Add(new FinalWindow(start, AggregationResult.View(start, start + spec.SizeMs, aggregate, final: true)));
                emitted.Add(new AggregationResult(name, start, start + spec.SizeMs, aggregate, null));
            }

            key.FinalEnd = final;
            foreach (var point in points.Where(p => p + spec.SizeMs < final))
            {
                key.Open.Remove(point); // every window holding it is final
            }
        }

        key.Finals.RemoveAll(f => f.StartMs + spec.SizeMs + definition.RetentionMs <= watermark);
    }

    /// <summary>The starts of the sliding windows the points make whose end is in (<paramref name="after"/>, <paramref name="upTo"/>], in order.</summary>
    private static SortedSet<long> SlidingStarts(long[] points, WindowSpec spec, long after, long upTo)
    {
        var difference = spec.SizeMs - 1;
        var starts = new SortedSet<long>();
        for (var i = 0; i < points.Length; i++)
        {
            var t = points[i];
            if (t + 1 > after && t + 1 <= upTo)
            {
                starts.Add(t - difference); // the left window [t - d, t]
            }

            // The right window [t + 1, t + 1 + d], when a later point falls in it.
            if (i + 1 < points.Length && points[i + 1] <= t + difference && t + 1 + spec.SizeMs > after && t + 1 + spec.SizeMs <= upTo)
            {
                starts.Add(t + 1);
            }
        }

        return starts;
    }

    private static WindowAggregate SlidingAggregate(KeyState key, long[] points, long start, WindowSpec spec)
    {
        var aggregate = new WindowAggregate();
        var from = Array.BinarySearch(points, start);
        for (var i = from < 0 ? ~from : from; i < points.Length && points[i] < start + spec.SizeMs; i++)
        {
            aggregate.Merge(key.Open[points[i]]);
        }

        return aggregate;
    }

    private static long NextDue(AggregationDefinition definition, KeyState key)
    {
        var spec = definition.Window;
        var next = long.MaxValue;
        if (spec.Kind == WindowKind.Sliding)
        {
            var points = key.Open.Keys.ToArray();
            var first = SlidingStarts(points, spec, key.FinalEnd, long.MaxValue);
            if (first.Count > 0)
            {
                next = first.Min(s => s + spec.SizeMs) + definition.AllowedLatenessMs;
            }

            foreach (var final in key.Finals)
            {
                next = Math.Min(next, final.StartMs + spec.SizeMs + definition.RetentionMs);
            }

            return next;
        }

        if (spec.Kind == WindowKind.Session)
        {
            next = key.Sessions.NextClose(spec, definition.AllowedLatenessMs);

            foreach (var closed in key.Closed)
            {
                next = Math.Min(next, closed.Session.End + definition.RetentionMs);
            }
        }
        else
        {
            if (key.Open.Count > 0)
            {
                next = key.Open.First().Key + spec.SizeMs + definition.AllowedLatenessMs;
            }

            foreach (var final in key.Finals)
            {
                next = Math.Min(next, final.StartMs + spec.SizeMs + definition.RetentionMs);
            }
        }

        return next;
    }

    private void Schedule(string name, KeyState key, long at)
    {
        if (at < key.ScheduledDue)
        {
            key.ScheduledDue = at;
            Due().Enqueue(name, at);
        }
    }

    private PriorityQueue<string, long> Due()
    {
        if (_due is null)
        {
            // After a reload from storage: schedule every key again.
            _due = new PriorityQueue<string, long>();
            foreach (var (name, key) in _keys)
            {
                if (key.ScheduledDue != long.MaxValue)
                {
                    _due.Enqueue(name, key.ScheduledDue);
                }
            }
        }

        return _due;
    }
}

/// <summary>A partition as a shard knows it.</summary>
/// <param name="WatermarkMs">Its watermark.</param>
/// <param name="LastRecordAtMs">When it last had a record (wall clock).</param>
/// <param name="NextOffset">The offset up to which the shard covers it.</param>
[GenerateSerializer, Immutable, Alias("sg.partition-mark")]
public sealed record PartitionMark([property: Id(0)] long WatermarkMs, [property: Id(1)] long LastRecordAtMs, [property: Id(2)] long NextOffset);

/// <summary>A window or session that became final, to publish.</summary>
/// <param name="Key">The group key.</param>
/// <param name="StartMs">Its start.</param>
/// <param name="EndMs">Its end (exclusive for windows; the last event time for sessions).</param>
/// <param name="Window">The window's aggregate, for windows.</param>
/// <param name="Session">The session, for sessions.</param>
public sealed record AggregationResult(string Key, long StartMs, long EndMs, WindowAggregate? Window, SessionAggregate? Session)
{
    /// <summary>A time in milliseconds since the epoch, as a UTC time.</summary>
    /// <param name="ms">Milliseconds since the epoch.</param>
    public static DateTimeOffset Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    /// <summary>The queryable form of a window.</summary>
    /// <param name="startMs">Its start.</param>
    /// <param name="endMs">Its end.</param>
    /// <param name="aggregate">Its aggregate.</param>
    /// <param name="final">Whether it is final.</param>
    public static AggregateWindow View(long startMs, long endMs, WindowAggregate aggregate, bool final)
    {
        ArgumentNullException.ThrowIfNull(aggregate);
        // A sum beyond a double's range (values near 1e308) is no number JSON can carry: null, as is its mean.
        static double? Finite(double? value) => value is { } number && double.IsFinite(number) ? number : null;
        return new(Time(startMs), Time(endMs), aggregate.Count, Finite(aggregate.Sum), aggregate.Min, aggregate.Max, Finite(aggregate.Average),
            aggregate.DistinctEntities, aggregate.Quantile(0.5), aggregate.Quantile(0.95), aggregate.Quantile(0.99), final);
    }

    /// <summary>The queryable form of a session.</summary>
    /// <param name="session">The session.</param>
    /// <param name="closed">Whether it is closed.</param>
    public static SessionView View(SessionAggregate session, bool closed)
    {
        ArgumentNullException.ThrowIfNull(session);
        return new(Time(session.Start), Time(session.End), session.Count, session.End - session.Start, session.Types.Select(t => t.Type).ToList(), closed);
    }
}

/// <summary>What a shard holds of one key.</summary>
[GenerateSerializer, Alias("sg.aggregation-key")]
internal sealed class KeyState
{
    /// <summary>Open time windows by start.</summary>
    [Id(0)] public SortedDictionary<long, WindowAggregate> Open { get; init; } = [];

    /// <summary>Final time windows still retained.</summary>
    [Id(1)] public List<FinalWindow> Finals { get; init; } = [];

    /// <summary>Open sessions.</summary>
    [Id(2)] public SessionSet Sessions { get; init; } = new();

    /// <summary>Closed sessions still retained.</summary>
    [Id(3)] public List<ClosedSession> Closed { get; init; } = [];

    /// <summary>Every window ending at or before this (every session ending at or before it) is final.</summary>
    [Id(5)] public long FinalEnd { get; set; } = long.MinValue;

    /// <summary>When the key is next due to be looked at (long.MaxValue: not scheduled).</summary>
    [Id(6)] public long ScheduledDue { get; set; } = long.MaxValue;

    public bool IsEmpty => Open.Count == 0 && Finals.Count == 0 && Sessions.Open.Count == 0 && Closed.Count == 0;
}

/// <summary>A final window, kept as its numbers only (its sketches are no longer needed: a final window changes no more).</summary>
[GenerateSerializer, Immutable, Alias("sg.final-window")]
internal sealed record FinalWindow([property: Id(0)] long StartMs, [property: Id(1)] AggregateWindow View);

/// <summary>A closed session.</summary>
[GenerateSerializer, Immutable, Alias("sg.closed-session")]
internal sealed record ClosedSession([property: Id(0)] SessionAggregate Session);
