using StreamGrains.Aggregations;

namespace StreamGrains.Api;

/// <summary>The body of <c>GET /api/aggregates/{name}/{key}</c>.</summary>
/// <param name="Aggregation">The aggregation.</param>
/// <param name="Key">The group key.</param>
/// <param name="Windows">Its windows, by start.</param>
public sealed record WindowsResponse(string Aggregation, string Key, IReadOnlyList<AggregateWindow> Windows);
