namespace StreamGrains.Aggregations;

/// <summary>How an aggregation cuts event time into windows.</summary>
public enum WindowKind
{
    /// <summary>Fixed-size, non-overlapping windows aligned to the epoch.</summary>
    Tumbling,

    /// <summary>Fixed-size windows that start every <c>Advance</c>, aligned to the epoch; an event falls in several.</summary>
    Hopping,

    /// <summary>Windows defined by the events themselves, as Kafka Streams' <c>SlidingWindows</c> (KIP-450).</summary>
    Sliding,

    /// <summary>Per-key sessions that close after a gap without events (or at a maximum duration).</summary>
    Session,
}
