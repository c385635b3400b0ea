using Orleans.Concurrency;

namespace StreamGrains.Statistics;

/// <summary>Keeps the latest report of each silo in memory; a silo that stops reporting drops out by age.</summary>
[Reentrant]
internal sealed class ClusterStatsGrain(TimeProvider time) : Grain, IClusterStatsGrain
{
    private readonly Dictionary<string, SiloProfileStats> _silos = new(StringComparer.Ordinal);

    public Task Report(SiloProfileStats stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        _silos[stats.Silo] = stats;
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<SiloProfileStats>> GetSilos(TimeSpan maxAge)
    {
        var since = time.GetUtcNow() - maxAge;
        foreach (var old in _silos.Where(s => s.Value.ReportedAt < since - maxAge).Select(s => s.Key).ToList())
        {
            _silos.Remove(old);
        }

        return Task.FromResult<IReadOnlyList<SiloProfileStats>>(_silos.Values.Where(s => s.ReportedAt >= since).OrderBy(s => s.Silo, StringComparer.Ordinal).ToList());
    }
}
