using StreamGrains.Aggregations;

namespace StreamGrains.Api;

/// <summary>The body of <c>GET /api/sessions/{name}/{key}</c>.</summary>
/// <param name="Aggregation">The aggregation.</param>
/// <param name="Key">The group key.</param>
/// <param name="Sessions">Its open and retained closed sessions, by start.</param>
public sealed record SessionsResponse(string Aggregation, string Key, IReadOnlyList<SessionView> Sessions);
