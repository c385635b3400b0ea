namespace StreamGrains.Aggregations;

/// <summary>
/// One aggregation as configured: the section <c>StreamGrains:Aggregations:&lt;name&gt;</c>.
/// <see cref="AggregationCompiler"/> checks it and names any key that is missing or wrong.
/// </summary>
public sealed class AggregationSettings
{
    /// <summary>The event types taken; empty: all.</summary>
    public List<string> EventTypes { get; set; } = [];

    /// <summary><c>entity</c> (default), <c>attrs.&lt;name&gt;</c>, or <c>*</c> (one global key).</summary>
    public string GroupBy { get; set; } = "entity";

    /// <summary>The window.</summary>
    public WindowSettings Window { get; set; } = new();

    /// <summary>How long after a window's end its events are still taken (default none).</summary>
    public TimeSpan AllowedLateness { get; set; } = TimeSpan.Zero;

    /// <summary>How long final windows and closed sessions stay queryable, in event time (default one hour).</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>The section <c>StreamGrains:Aggregations:&lt;name&gt;:Window</c>.</summary>
public sealed class WindowSettings
{
    /// <summary><c>Tumbling</c>, <c>Hopping</c>, <c>Sliding</c> or <c>Session</c>.</summary>
    public string? Kind { get; set; }

    /// <summary>Tumbling, hopping and sliding: the window's length.</summary>
    public TimeSpan? Size { get; set; }

    /// <summary>Hopping: how far each window starts after the one before.</summary>
    public TimeSpan? Advance { get; set; }

    /// <summary>Session: a session closes after this long without an event of its key.</summary>
    public TimeSpan? Gap { get; set; }

    /// <summary>Session: a session closes when it spans this long (default: no limit).</summary>
    public TimeSpan? MaxDuration { get; set; }
}

/// <summary>The settings shared by all aggregations: <c>StreamGrains:Aggregations:IdleTimeout</c>, <c>MaxFutureSkew</c>, <c>CheckpointInterval</c> and <c>Shards</c>.</summary>
public sealed class AggregationLimits
{
    /// <summary>A partition without records for this long holds no key's watermark back.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>An event time further ahead of the wall clock than this moves no watermark and goes to <c>events.late</c>.</summary>
    public TimeSpan MaxFutureSkew { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long after it changed an aggregator shard writes its state to grain storage (Kafka commits wait for it).</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Shards (aggregator grains) of each re-keyed aggregation (grouped by an attribute or <c>*</c>); an entity-grouped aggregation has one per partition. Keep it when state is stored.</summary>
    public int Shards { get; set; } = 8;
}
