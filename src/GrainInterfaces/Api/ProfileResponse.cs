using System.Text.Json.Serialization;

namespace StreamGrains.Api;

/// <summary>The body of <c>GET /api/profiles/{entity}</c>.</summary>
/// <param name="Entity">The entity.</param>
/// <param name="Count">Events seen.</param>
/// <param name="ValueCount">Events seen with a value.</param>
/// <param name="Sum">The sum of the values.</param>
/// <param name="Mean">Their mean.</param>
/// <param name="StdDev">Their population standard deviation.</param>
/// <param name="Min">The smallest value.</param>
/// <param name="Max">The largest value.</param>
/// <param name="FirstEventTime">The earliest event time.</param>
/// <param name="LastEventTime">The latest event time.</param>
/// <param name="CountsByType">Events per type.</param>
/// <param name="RecentValues">The last few distinct values of each attribute, most recent last.</param>
/// <param name="Flags">The flags <c>Flag</c> rules set.</param>
/// <param name="Context">The external context.</param>
/// <param name="ContextLoadedAt">When the context was loaded.</param>
/// <param name="AnomalyScore">The exponentially weighted anomaly score of the values.</param>
/// <param name="DecisionsByRule">Decisions about the entity, by rule.</param>
/// <param name="Partition">The Kafka partition its events come from.</param>
/// <param name="Silo">The silo its profile is active on.</param>
public sealed record ProfileResponse(
    string Entity,
    long Count,
    long ValueCount,
    double Sum,
    double Mean,
    [property: JsonPropertyName("stddev")] double StdDev,
    double? Min,
    double? Max,
    DateTimeOffset FirstEventTime,
    DateTimeOffset LastEventTime,
    IReadOnlyDictionary<string, long> CountsByType,
    IReadOnlyDictionary<string, IReadOnlyList<string>> RecentValues,
    IReadOnlyList<string> Flags,
    IReadOnlyDictionary<string, object> Context,
    DateTimeOffset? ContextLoadedAt,
    double AnomalyScore,
    IReadOnlyDictionary<string, long> DecisionsByRule,
    int? Partition,
    string? Silo);
