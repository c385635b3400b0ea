using StreamGrains.Silo.Profiles;
using StreamGrains.Statistics;

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
        return new StatsResponse(StatsInfo.From(local), StatsInfo.From(SiloProfileStats.Sum(silos, "cluster")), silos.Count);
    }
}

/// <summary>The body of <c>GET /api/stats</c>.</summary>
/// <param name="Silo">This silo (now).</param>
/// <param name="Cluster">Every live silo, added up (each as of its last report, at most two seconds old).</param>
/// <param name="Silos">How many silos the cluster figures cover.</param>
public sealed record StatsResponse(StatsInfo Silo, StatsInfo Cluster, int Silos);

/// <summary>Profile statistics of a silo or of the cluster.</summary>
/// <param name="EventsProcessed">Events taken into profiles.</param>
/// <param name="Decisions">Decisions made.</param>
/// <param name="DecisionsByRule">Decisions by rule.</param>
/// <param name="DeadLetters">Records sent to dead-letter topics.</param>
/// <param name="DecisionLatencyMs">Decision latency percentiles, from the record's Kafka timestamp to the decision handed to the producer.</param>
/// <param name="ActiveProfiles">Profile grains active.</param>
/// <param name="ReplaysSkipped">Replayed events (after a crash or a rewind) the profiles recognised by offset and did not count again.</param>
/// <param name="DuplicateDecisionsSuppressed">Decisions about replayed events that were found published already and not published again.</param>
public sealed record StatsInfo(long EventsProcessed, long Decisions, IReadOnlyDictionary<string, long> DecisionsByRule, long DeadLetters, LatencyInfo DecisionLatencyMs, long ActiveProfiles, long ReplaysSkipped, long DuplicateDecisionsSuppressed)
{
    internal static StatsInfo From(SiloProfileStats stats) => new(
        stats.EventsProcessed,
        stats.DecisionsByRule.Values.Sum(),
        stats.DecisionsByRule,
        stats.DeadLetters,
        new LatencyInfo(stats.DecisionLatency.Count, stats.DecisionLatency.Quantile(0.5), stats.DecisionLatency.Quantile(0.99)),
        stats.ActiveProfiles,
        stats.ReplaysSkipped,
        stats.DuplicateDecisionsSuppressed);
}

/// <summary>Latency percentiles in milliseconds (null before the first decision).</summary>
/// <param name="Count">Decisions measured.</param>
/// <param name="P50">The median.</param>
/// <param name="P99">The 99th percentile.</param>
public sealed record LatencyInfo(long Count, double? P50, double? P99);
