using StreamGrains.Events;

namespace StreamGrains.Profiles;

/// <summary>What a profile grain knows about its entity: the body of <c>GET /api/profiles/{entity}</c>.</summary>
[GenerateSerializer, Immutable, Alias("sg.profile")]
public sealed record ProfileSnapshot
{
    /// <summary>The entity.</summary>
    [Id(0)] public required string Entity { get; init; }

    /// <summary>Events seen.</summary>
    [Id(1)] public long Count { get; init; }

    /// <summary>Events seen that had a <c>value</c>; <see cref="Sum"/> to <see cref="Max"/> describe those values.</summary>
    [Id(2)] public long ValueCount { get; init; }

    /// <summary>The sum of the values.</summary>
    [Id(3)] public double Sum { get; init; }

    /// <summary>The mean of the values (0 without any).</summary>
    [Id(4)] public double Mean { get; init; }

    /// <summary>The population standard deviation of the values (0 with fewer than two).</summary>
    [Id(5)] public double StdDev { get; init; }

    /// <summary>The smallest value, if any.</summary>
    [Id(6)] public double? Min { get; init; }

    /// <summary>The largest value, if any.</summary>
    [Id(7)] public double? Max { get; init; }

    /// <summary>The earliest event time seen.</summary>
    [Id(8)] public DateTimeOffset FirstEventTime { get; init; }

    /// <summary>The latest event time seen.</summary>
    [Id(9)] public DateTimeOffset LastEventTime { get; init; }

    /// <summary>Events seen per event type.</summary>
    [Id(10)] public IReadOnlyDictionary<string, long> CountsByType { get; init; } = new Dictionary<string, long>();

    /// <summary>The last few distinct values of each attribute, most recent last (capped).</summary>
    [Id(11)] public IReadOnlyDictionary<string, IReadOnlyList<string>> RecentValues { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>The names of the <c>Flag</c> rules that fired for the entity.</summary>
    [Id(12)] public IReadOnlyList<string> Flags { get; init; } = [];

    /// <summary>The entity's external context, as last loaded (empty without any).</summary>
    [Id(13)] public IReadOnlyDictionary<string, AttributeValue> Context { get; init; } = StreamEvent.EmptyAttributes;

    /// <summary>When the context was last loaded, if ever.</summary>
    [Id(14)] public DateTimeOffset? ContextLoadedAt { get; init; }

    /// <summary>
    /// The exponentially weighted anomaly score of <c>value</c>: an average of recent absolute z-scores, each event's
    /// against the values before it (0 until there are two values).
    /// </summary>
    [Id(15)] public double AnomalyScore { get; init; }

    /// <summary>Decisions made about the entity, by rule.</summary>
    [Id(16)] public IReadOnlyDictionary<string, long> DecisionsByRule { get; init; } = new Dictionary<string, long>();

    /// <summary>The Kafka partition the entity's events come from (as last seen).</summary>
    [Id(17)] public int? Partition { get; init; }

    /// <summary>The silo the profile is active on.</summary>
    [Id(18)] public string? Silo { get; init; }
}
