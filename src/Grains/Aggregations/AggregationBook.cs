namespace StreamGrains.Aggregations;

/// <summary>The configured aggregations, by name, with the settings they share.</summary>
public sealed class AggregationBook
{
    /// <summary>Creates the book.</summary>
    /// <param name="definitions">The aggregations.</param>
    /// <param name="limits">The shared settings.</param>
    /// <param name="shards">Shards of each re-keyed aggregation.</param>
    public AggregationBook(IReadOnlyList<AggregationDefinition> definitions, AggregationLimits limits, int shards)
    {
        ArgumentNullException.ThrowIfNull(definitions);
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        All = definitions;
        Limits = limits;
        Shards = shards;
        ByName = definitions.ToDictionary(d => d.Name, StringComparer.Ordinal);
    }

    /// <summary>The aggregations, in name order.</summary>
    public IReadOnlyList<AggregationDefinition> All { get; }

    /// <summary>The aggregations by name.</summary>
    public IReadOnlyDictionary<string, AggregationDefinition> ByName { get; }

    /// <summary>The shared settings.</summary>
    public AggregationLimits Limits { get; }

    /// <summary>Shards of each re-keyed aggregation.</summary>
    public int Shards { get; }
}
