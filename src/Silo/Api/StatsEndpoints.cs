using StreamGrains.Silo.Profiles;
using StreamGrains.Statistics;
using StreamGrains.Api;

namespace StreamGrains.Silo.Api;

/// <summary><c>GET /api/stats</c>: what the profiles did, on this silo and in the whole cluster.</summary>
internal static class StatsEndpoints
{
    public static IEndpointRouteBuilder MapStatsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/stats", GetStatsAsync)
            .WithName("GetStats")
            .WithSummary("Events processed, decisions by rule, dead letters, decision latency p50/p99 and active profiles: this silo and the cluster.");
        return endpoints;
    }

    private static async Task<StatsResponse> GetStatsAsync(ProfileStatsReporter reporter, IGrainFactory grains)
    {
        var local = reporter.Current();
        var silos = (await grains.GetGrain<IClusterStatsGrain>(0).GetSilos(ProfileStatsReporter.Period * 5).ConfigureAwait(false))
            .Where(s => s.Silo != local.Silo)
            .Append(local)
            .ToList();
        return new StatsResponse(ToInfo(local), ToInfo(SiloProfileStats.Sum(silos, "cluster")), silos.Count);
    }

    private static StatsInfo ToInfo(SiloProfileStats stats) => new(
        stats.EventsProcessed,
        stats.DecisionsByRule.Values.Sum(),
        stats.DecisionsByRule,
        stats.DeadLetters,
        new LatencyInfo(stats.DecisionLatency.Count, stats.DecisionLatency.Quantile(0.5), stats.DecisionLatency.Quantile(0.99)),
        stats.ActiveProfiles,
        stats.ReplaysSkipped,
        stats.DuplicateDecisionsSuppressed);
}
