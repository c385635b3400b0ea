namespace StreamGrains.Aggregations.Sessions;

/// <summary>
/// A session of one key: its first and last event time, how many events, and the sequence of their types (the first
/// <see cref="MaxTypes"/> by event time, ties by type, so that merging partial sessions in any order gives the same
/// sequence).
/// </summary>
[GenerateSerializer, Alias("sg.session")]
public sealed class SessionAggregate
{
    /// <summary>The most event types a session keeps.</summary>
    public const int MaxTypes = 100;

    /// <summary>Creates a session of one event.</summary>
    /// <param name="timeMs">The event's time.</param>
    /// <param name="type">The event's type.</param>
    /// <param name="keepEvents">Whether to keep every event's time and type (needed to cut a session at a maximum duration).</param>
    public SessionAggregate(long timeMs, string type, bool keepEvents = false)
    {
        ArgumentNullException.ThrowIfNull(type);
        Start = timeMs;
        End = timeMs;
        Count = 1;
        Types = [new SessionType(timeMs, type)];
        Events = keepEvents ? [new SessionType(timeMs, type)] : null;
        JoinableUntil = long.MaxValue;
    }

    private SessionAggregate(List<SessionType> events)
    {
        Start = events[0].TimeMs;
        End = events[^1].TimeMs;
        Count = events.Count;
        Types = events.Take(MaxTypes).ToList();
        Events = events;
        JoinableUntil = long.MaxValue;
    }

    /// <summary>Every event's time and type, in order, when kept.</summary>
    [Id(4)] public List<SessionType>? Events { get; private set; }

    /// <summary>For a closed session: the latest event time that would have joined it.</summary>
    [Id(5)] public long JoinableUntil { get; set; }

    /// <summary>The first event time.</summary>
    [Id(0)] public long Start { get; private set; }

    /// <summary>The last event time.</summary>
    [Id(1)] public long End { get; private set; }

    /// <summary>Events in the session.</summary>
    [Id(2)] public long Count { get; private set; }

    /// <summary>The first <see cref="MaxTypes"/> event types, in event-time order.</summary>
    [Id(3)] public List<SessionType> Types { get; private set; }

    /// <summary>Whether this session and <paramref name="other"/> are within <paramref name="gapMs"/> of each other.</summary>
    /// <param name="other">Another session.</param>
    /// <param name="gapMs">The gap.</param>
    public bool Touches(SessionAggregate other, long gapMs)
    {
        ArgumentNullException.ThrowIfNull(other);
        return other.Start <= End + gapMs && Start <= other.End + gapMs;
    }

    /// <summary>Takes <paramref name="other"/> in.</summary>
    /// <param name="other">Another session of the same key.</param>
    public void Merge(SessionAggregate other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Start = Math.Min(Start, other.Start);
        End = Math.Max(End, other.End);
        Count += other.Count;
        Types = MergeSorted(Types, other.Types, MaxTypes);
        if (Events is not null && other.Events is not null)
        {
            Events = MergeSorted(Events, other.Events, int.MaxValue);
        }
    }

    /// <summary>
    /// Cuts off the events up to <paramref name="untilMs"/> (the first part of a session that reached its maximum
    /// duration) as a session of their own, which is returned; this session keeps the rest. Needs the events kept.
    /// </summary>
    /// <param name="untilMs">The last event time of the part cut off.</param>
    public SessionAggregate? CutUntil(long untilMs)
    {
        var events = Events ?? throw new InvalidOperationException("A session is cut only when its events are kept.");
        var split = events.FindIndex(e => e.TimeMs > untilMs);
        if (split <= 0)
        {
            return null;
        }

        var head = new SessionAggregate(events[..split]);
        var rest = events[split..];
        Start = rest[0].TimeMs;
        Count = rest.Count;
        Types = rest.Take(MaxTypes).ToList();
        Events = rest;
        return head;
    }

    private static List<SessionType> MergeSorted(List<SessionType> a, List<SessionType> b, int cap)
    {
        var merged = new List<SessionType>(Math.Min(cap, a.Count + b.Count));
        int i = 0, j = 0;
        while (merged.Count < cap && (i < a.Count || j < b.Count))
        {
            merged.Add(j >= b.Count || (i < a.Count && SessionType.Compare(a[i], b[j]) <= 0) ? a[i++] : b[j++]);
        }

        return merged;
    }
}

/// <summary>An event type in a session, with its event time.</summary>
/// <param name="TimeMs">The event time.</param>
/// <param name="Type">The type.</param>
[GenerateSerializer, Immutable, Alias("sg.session-type")]
public readonly record struct SessionType([property: Id(0)] long TimeMs, [property: Id(1)] string Type)
{
    /// <summary>Orders by event time, then by type.</summary>
    /// <param name="a">One.</param>
    /// <param name="b">The other.</param>
    public static int Compare(SessionType a, SessionType b)
    {
        var byTime = a.TimeMs.CompareTo(b.TimeMs);
        return byTime != 0 ? byTime : string.CompareOrdinal(a.Type, b.Type);
    }
}
