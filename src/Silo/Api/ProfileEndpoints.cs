using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using StreamGrains.Profiles;

namespace StreamGrains.Silo.Api;

/// <summary><c>GET /api/profiles/{entity}</c>: what the entity's profile grain knows.</summary>
internal static class ProfileEndpoints
{
    public static IEndpointRouteBuilder MapProfileEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/profiles/{entity}", GetProfileAsync)
            .WithName("GetProfile")
            .WithSummary("An entity's profile: counts, statistics of its values, times, counts per type, recent attribute values, flags, context and anomaly score. 404 when the entity was never seen.");
        return endpoints;
    }

    private static async Task<IResult> GetProfileAsync(string entity, IGrainFactory grains, IOptions<ProfileOptions> options)
    {
        if (ApiValues.EntityError(entity) is { } error)
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["entity"] = [error] }, title: "Invalid entity");
        }

        if (!options.Value.Enabled)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Profiles are turned off", detail: "This silo keeps no profiles (StreamGrains:Profiles:Enabled is false).");
        }

        var profile = await grains.GetGrain<IProfileGrain>(entity).GetProfile().ConfigureAwait(false);
        return profile is null
            ? Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown entity", detail: $"No event of entity '{entity}' was seen.")
            : Results.Ok(ProfileResponse.From(profile));
    }
}

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
    string? Silo)
{
    internal static ProfileResponse From(ProfileSnapshot p) => new(
        p.Entity, p.Count, p.ValueCount, p.Sum, p.Mean, p.StdDev, p.Min, p.Max, p.FirstEventTime, p.LastEventTime,
        p.CountsByType, p.RecentValues, p.Flags, ApiValues.Attributes(p.Context), p.ContextLoadedAt, p.AnomalyScore, p.DecisionsByRule, p.Partition, p.Silo);
}
