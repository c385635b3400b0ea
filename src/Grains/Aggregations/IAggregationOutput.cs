using StreamGrains.Outputs;

namespace StreamGrains.Aggregations;

/// <summary>
/// Where final windows and closed sessions go (the <c>aggregates</c> and <c>sessions</c> topics, and the tables with
/// PostgreSQL). Returns at once; each record is counted in the grain's <see cref="UnacknowledgedOutputs"/> until it is safe.
/// </summary>
public interface IAggregationOutput
{
    /// <summary>Publishes a window or session that became final.</summary>
    /// <param name="definition">The aggregation.</param>
    /// <param name="result">The window or session.</param>
    /// <param name="unacknowledged">The grain's records not yet acknowledged: counts this one until every place it goes to (Kafka, and the tables when configured) has it.</param>
    void Final(AggregationDefinition definition, AggregationResult result, UnacknowledgedOutputs unacknowledged);
}
