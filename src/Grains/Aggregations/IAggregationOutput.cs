namespace StreamGrains.Aggregations;

/// <summary>Where final windows and closed sessions go (the <c>aggregates</c> and <c>sessions</c> topics).</summary>
public interface IAggregationOutput
{
    /// <summary>Publishes a window or session that became final.</summary>
    /// <param name="definition">The aggregation.</param>
    /// <param name="result">The window or session.</param>
    void Final(AggregationDefinition definition, AggregationResult result);
}
