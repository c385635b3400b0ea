namespace StreamGrains.Aggregations;

/// <summary>One window of a key, as queried and as published to the <c>aggregates</c> topic.</summary>
/// <param name="Start">The window's start (inclusive).</param>
/// <param name="End">The window's end (exclusive).</param>
/// <param name="Count">Events in the window.</param>
/// <param name="Sum">The sum of their values (null when it is beyond a double's range).</param>
/// <param name="Min">The least value, or null when none had a value.</param>
/// <param name="Max">The greatest value, or null.</param>
/// <param name="Avg">The mean value, or null.</param>
/// <param name="DistinctEntities">Distinct entities (HyperLogLog: exact while few, then within about 1 %).</param>
/// <param name="P50">The median value (within 1 %), or null.</param>
/// <param name="P95">The 95th percentile, or null.</param>
/// <param name="P99">The 99th percentile, or null.</param>
/// <param name="Final">Whether the watermark passed the window's end and its lateness: it changes no more.</param>
[GenerateSerializer, Immutable, Alias("sg.aggregate-window")]
public sealed record AggregateWindow(
    [property: Id(0)] DateTimeOffset Start,
    [property: Id(1)] DateTimeOffset End,
    [property: Id(2)] long Count,
    [property: Id(3)] double? Sum,
    [property: Id(4)] double? Min,
    [property: Id(5)] double? Max,
    [property: Id(6)] double? Avg,
    [property: Id(7)] long DistinctEntities,
    [property: Id(8)] double? P50,
    [property: Id(9)] double? P95,
    [property: Id(10)] double? P99,
    [property: Id(11)] bool Final);

/// <summary>One session of a key, as queried and as published to the <c>sessions</c> topic.</summary>
/// <param name="Start">The first event time.</param>
/// <param name="End">The last event time.</param>
/// <param name="Count">Events in the session.</param>
/// <param name="DurationMs">End minus start, in milliseconds.</param>
/// <param name="Types">The event types in event-time order (capped).</param>
/// <param name="Closed">Whether the session is closed (final).</param>
[GenerateSerializer, Immutable, Alias("sg.session-view")]
public sealed record SessionView(
    [property: Id(0)] DateTimeOffset Start,
    [property: Id(1)] DateTimeOffset End,
    [property: Id(2)] long Count,
    [property: Id(3)] long DurationMs,
    [property: Id(4)] IReadOnlyList<string> Types,
    [property: Id(5)] bool Closed);

/// <summary>A key and its count in a window, for top-N queries.</summary>
/// <param name="Key">The group key.</param>
/// <param name="Count">Its count.</param>
/// <param name="WindowStart">The window's start.</param>
/// <param name="WindowEnd">The window's end.</param>
[GenerateSerializer, Immutable, Alias("sg.key-count")]
public sealed record KeyCount([property: Id(0)] string Key, [property: Id(1)] long Count, [property: Id(2)] DateTimeOffset WindowStart, [property: Id(3)] DateTimeOffset WindowEnd);
