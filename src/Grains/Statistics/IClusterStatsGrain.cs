namespace StreamGrains.Statistics;

/// <summary>The latest statistics of every silo (one grain per cluster, key 0): silos report, <c>/api/stats</c> reads.</summary>
public interface IClusterStatsGrain : IGrainWithIntegerKey
{
    /// <summary>Takes a silo's latest statistics.</summary>
    /// <param name="stats">The statistics.</param>
    Task Report(SiloProfileStats stats);

    /// <summary>The latest statistics of each silo that reported within <paramref name="maxAge"/>.</summary>
    /// <param name="maxAge">How old a report may be.</param>
    Task<IReadOnlyList<SiloProfileStats>> GetSilos(TimeSpan maxAge);
}
