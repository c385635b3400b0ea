using System.Text.Json.Serialization;
using StreamGrains.Events;
using StreamGrains.Profiles;

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
[GenerateSerializer, Immutable, Alias("sg.api.profile-response")]
public sealed record ProfileResponse(
    [property: Id(0)] string Entity,
    [property: Id(1)] long Count,
    [property: Id(2)] long ValueCount,
    [property: Id(3)] double Sum,
    [property: Id(4)] double Mean,
    [property: Id(5), JsonPropertyName("stddev")] double StdDev,
    [property: Id(6)] double? Min,
    [property: Id(7)] double? Max,
    [property: Id(8)] DateTimeOffset FirstEventTime,
    [property: Id(9)] DateTimeOffset LastEventTime,
    [property: Id(10)] IReadOnlyDictionary<string, long> CountsByType,
    [property: Id(11)] IReadOnlyDictionary<string, IReadOnlyList<string>> RecentValues,
    [property: Id(12)] IReadOnlyList<string> Flags,
    [property: Id(13)] IReadOnlyDictionary<string, object> Context,
    [property: Id(14)] DateTimeOffset? ContextLoadedAt,
    [property: Id(15)] double AnomalyScore,
    [property: Id(16)] IReadOnlyDictionary<string, long> DecisionsByRule,
    [property: Id(17)] int? Partition,
    [property: Id(18)] string? Silo)
{
    /// <summary>What the API answers for a profile grain's snapshot.</summary>
    /// <param name="snapshot">The snapshot.</param>
    public static ProfileResponse From(ProfileSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var p = snapshot;
        return new(
            p.Entity, p.Count, p.ValueCount, p.Sum, p.Mean, p.StdDev, p.Min, p.Max, p.FirstEventTime, p.LastEventTime,
            p.CountsByType, p.RecentValues, p.Flags, Attributes(p.Context), p.ContextLoadedAt, p.AnomalyScore, p.DecisionsByRule, p.Partition, p.Silo);
    }

    /// <summary>Attributes as a JSON object of strings, numbers and booleans.</summary>
    private static Dictionary<string, object> Attributes(IReadOnlyDictionary<string, AttributeValue> attributes) =>
        attributes.ToDictionary(
            a => a.Key,
            a => a.Value.Kind switch
            {
                AttributeKind.Text => (object)(a.Value.Text ?? string.Empty),
                AttributeKind.Flag => a.Value.Flag,
                _ => a.Value.Number,
            },
            StringComparer.Ordinal);
}
