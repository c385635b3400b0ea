namespace StreamGrains.Aggregations;

/// <summary>
/// One shard of one aggregation (key <c>&lt;aggregation&gt;/&lt;shard&gt;</c>): takes the partitions' pre-aggregated
/// batches, publishes windows and sessions as they become final, and answers queries.
/// </summary>
public interface IAggregatorGrain : IGrainWithStringKey
{
    /// <summary>Takes one read's batch of one partition.</summary>
    /// <param name="batch">The batch.</param>
    /// <returns>Which partials came too late.</returns>
    Task<AggregationReply> Merge(AggregationBatch batch);

    /// <summary>The offset of <paramref name="partition"/> up to which this shard took its records (0: none).</summary>
    /// <param name="partition">The input partition.</param>
    Task<long> GetCoveredOffset(int partition);

    /// <summary>A key's windows (open and final) overlapping a time range; null for an unknown key.</summary>
    /// <param name="key">The group key.</param>
    /// <param name="fromMs">Windows ending after this (ms since the epoch).</param>
    /// <param name="toMs">Windows starting before this.</param>
    Task<IReadOnlyList<AggregateWindow>?> GetWindows(string key, long fromMs, long toMs);

    /// <summary>A key's open and retained closed sessions; null for an unknown key.</summary>
    /// <param name="key">The group key.</param>
    Task<IReadOnlyList<SessionView>?> GetSessions(string key);

    /// <summary>Every window ending at or before this (ms since the epoch) is final in this shard; long.MinValue while unknown.</summary>
    Task<long> GetFinalHorizon();

    /// <summary>The keys with the highest counts in this shard's latest final window that ends by <paramref name="endAtMost"/>.</summary>
    /// <param name="top">How many.</param>
    /// <param name="endAtMost">The latest window end to consider: the horizon every shard of the aggregation has finished.</param>
    Task<IReadOnlyList<KeyCount>> GetTop(int top, long endAtMost);
}
