namespace StreamGrains.Aggregations;

/// <summary>The configured aggregations, by name, with the settings they share.</summary>
public sealed class AggregationBook
{
    /// <summary>Creates the book.</summary>
    /// <param name="definitions">The aggregations.</param>
    /// <param name="limits">The shared settings.</param>
    public AggregationBook(IReadOnlyList<AggregationDefinition> definitions, AggregationLimits limits)
    {
        ArgumentNullException.ThrowIfNull(definitions);
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentOutOfRangeException.ThrowIfLessThan(limits.Shards, 1);
        All = definitions;
        Limits = limits;
        ByName = definitions.ToDictionary(d => d.Name, StringComparer.Ordinal);
    }

    /// <summary>The aggregations, in name order.</summary>
    public IReadOnlyList<AggregationDefinition> All { get; }

    /// <summary>The aggregations by name.</summary>
    public IReadOnlyDictionary<string, AggregationDefinition> ByName { get; }

    /// <summary>The shared settings.</summary>
    public AggregationLimits Limits { get; }

    /// <summary>Shards of each re-keyed aggregation (<see cref="AggregationLimits.Shards"/>).</summary>
    public int Shards => Limits.Shards;
}
