using StreamGrains.Aggregations;

namespace StreamGrains.Api;

/// <summary>The body of <c>GET /api/aggregates/{name}/{key}</c>.</summary>
/// <param name="Aggregation">The aggregation.</param>
/// <param name="Key">The group key.</param>
/// <param name="Windows">Its windows, by start.</param>
[GenerateSerializer, Immutable, Alias("sg.api.windows-response")]
public sealed record WindowsResponse([property: Id(0)] string Aggregation, [property: Id(1)] string Key, [property: Id(2)] IReadOnlyList<AggregateWindow> Windows);
