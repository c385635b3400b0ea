namespace StreamGrains.Silo.Api;

/// <summary><c>GET /api/profiles/{entity}</c>: what the entity's profile grain knows.</summary>
internal static class ProfileEndpoints
{
    public static IEndpointRouteBuilder MapProfileEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/profiles/{entity}", async (string entity, ApiQueries queries) => (await queries.ProfileAsync(entity).ConfigureAwait(false)).ToResult())
            .WithName("GetProfile")
            .WithSummary("An entity's profile: counts, statistics of its values, times, counts per type, recent attribute values, flags, context and anomaly score. 404 when the entity was never seen.");
        return endpoints;
    }
}
