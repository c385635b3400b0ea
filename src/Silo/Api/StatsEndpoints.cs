using StreamGrains.Api;

namespace StreamGrains.Silo.Api;

/// <summary><c>GET /api/stats</c>: what the profiles did, on this silo and in the whole cluster.</summary>
internal static class StatsEndpoints
{
    public static IEndpointRouteBuilder MapStatsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/stats", (ApiQueries queries) => queries.StatsAsync())
            .WithName("GetStats")
            .WithSummary("Events processed, decisions by rule, dead letters, decision latency p50/p99 and active profiles: this silo and the cluster.")
            .Produces<StatsResponse>();
        return endpoints;
    }
}
