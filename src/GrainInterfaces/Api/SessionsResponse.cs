using StreamGrains.Aggregations;

namespace StreamGrains.Api;

/// <summary>The body of <c>GET /api/sessions/{name}/{key}</c>.</summary>
/// <param name="Aggregation">The aggregation.</param>
/// <param name="Key">The group key.</param>
/// <param name="Sessions">Its open and retained closed sessions, by start.</param>
[GenerateSerializer, Immutable, Alias("sg.api.sessions-response")]
public sealed record SessionsResponse([property: Id(0)] string Aggregation, [property: Id(1)] string Key, [property: Id(2)] IReadOnlyList<SessionView> Sessions);
