using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using StreamGrains.Profiles;
using StreamGrains.Api;

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
            : Results.Ok(ToResponse(profile));
    }

    private static ProfileResponse ToResponse(ProfileSnapshot p) => new(
        p.Entity, p.Count, p.ValueCount, p.Sum, p.Mean, p.StdDev, p.Min, p.Max, p.FirstEventTime, p.LastEventTime,
        p.CountsByType, p.RecentValues, p.Flags, ApiValues.Attributes(p.Context), p.ContextLoadedAt, p.AnomalyScore, p.DecisionsByRule, p.Partition, p.Silo);
}
