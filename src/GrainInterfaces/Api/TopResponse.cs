namespace StreamGrains.Api;

/// <summary>The body of <c>GET /api/aggregates/{name}?top=N</c>.</summary>
/// <param name="Aggregation">The aggregation.</param>
/// <param name="WindowStart">The latest final window's start (null: none final yet).</param>
/// <param name="WindowEnd">Its end.</param>
/// <param name="Keys">The keys by count, highest first.</param>
public sealed record TopResponse(string Aggregation, DateTimeOffset? WindowStart, DateTimeOffset? WindowEnd, IReadOnlyList<TopKey> Keys);

/// <summary>A key and its count.</summary>
/// <param name="Key">The key.</param>
/// <param name="Count">Its count in the window.</param>
public sealed record TopKey(string Key, long Count);
