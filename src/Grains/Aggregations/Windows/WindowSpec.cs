namespace StreamGrains.Aggregations.Windows;

/// <summary>
/// The shape of an aggregation's windows, in milliseconds. Time windows are aligned to the epoch, start inclusive and end
/// exclusive: a tumbling window of size s holds [k·s, (k+1)·s); a hopping one of size s and advance a holds
/// [k·a, k·a + s). Sliding windows follow Kafka Streams' <c>SlidingWindows</c> (KIP-450): each event at t makes the
/// window [t − d, t] and, when later events fall within d of it, [t + 1, t + 1 + d], both ends inclusive (d the
/// configured size), which is [start, start + d + 1) in this type's terms: <see cref="SizeMs"/> is d + 1. A session holds
/// the events of a key that follow each other within <see cref="GapMs"/>, cut at <see cref="MaxDurationMs"/>.
/// </summary>
/// <param name="Kind">The kind.</param>
/// <param name="SizeMs">Tumbling and hopping: the size; sliding: the time difference plus one millisecond (the span of a window, end exclusive).</param>
/// <param name="AdvanceMs">Hopping: the advance (tumbling: the size).</param>
/// <param name="GapMs">Session: the gap.</param>
/// <param name="MaxDurationMs">Session: the longest span (0: no limit).</param>
[GenerateSerializer, Immutable, Alias("sg.window-spec")]
public sealed record WindowSpec(
    [property: Id(0)] WindowKind Kind,
    [property: Id(1)] long SizeMs,
    [property: Id(2)] long AdvanceMs,
    [property: Id(3)] long GapMs,
    [property: Id(4)] long MaxDurationMs)
{
    /// <summary>A tumbling window of <paramref name="size"/>.</summary>
    /// <param name="size">The size.</param>
    public static WindowSpec Tumbling(TimeSpan size) => new(WindowKind.Tumbling, Ms(size), Ms(size), 0, 0);

    /// <summary>Hopping windows of <paramref name="size"/> every <paramref name="advance"/>.</summary>
    /// <param name="size">The size.</param>
    /// <param name="advance">The advance.</param>
    public static WindowSpec Hopping(TimeSpan size, TimeSpan advance) => new(WindowKind.Hopping, Ms(size), Ms(advance), 0, 0);

    /// <summary>Sliding windows (KIP-450) of time difference <paramref name="difference"/>.</summary>
    /// <param name="difference">The longest time between two events of one window.</param>
    public static WindowSpec Sliding(TimeSpan difference) => new(WindowKind.Sliding, Ms(difference) + 1, 0, 0, 0);

    /// <summary>Sessions that close after <paramref name="gap"/>, or at <paramref name="maxDuration"/>.</summary>
    /// <param name="gap">The gap.</param>
    /// <param name="maxDuration">The longest span, or null.</param>
    public static WindowSpec Session(TimeSpan gap, TimeSpan? maxDuration = null) => new(WindowKind.Session, 0, 0, Ms(gap), maxDuration is { } max ? Ms(max) : 0);

    /// <summary>
    /// The starts of the time windows an event at <paramref name="timeMs"/> falls in, latest first: one for tumbling,
    /// ⌈size / advance⌉ or so for hopping.
    /// </summary>
    /// <param name="timeMs">The event time, in milliseconds since the epoch.</param>
    /// <param name="starts">Receives the starts.</param>
    public void StartsOf(long timeMs, List<long> starts)
    {
        ArgumentNullException.ThrowIfNull(starts);
        starts.Clear();
        var latest = FloorTo(timeMs, AdvanceMs);
        for (var start = latest; start > timeMs - SizeMs; start -= AdvanceMs)
        {
            starts.Add(start);
        }
    }

    /// <summary>The largest multiple of <paramref name="step"/> not above <paramref name="value"/> (also for negative values).</summary>
    /// <param name="value">The value.</param>
    /// <param name="step">A positive step.</param>
    public static long FloorTo(long value, long step)
    {
        var remainder = value % step;
        return remainder < 0 ? value - remainder - step : value - remainder;
    }

    private static long Ms(TimeSpan span) => (long)span.TotalMilliseconds;
}
