namespace StreamGrains.Api;

/// <summary>The body of <c>GET /api/aggregates/{name}?top=N</c>.</summary>
/// <param name="Aggregation">The aggregation.</param>
/// <param name="WindowStart">The latest final window's start (null: none final yet).</param>
/// <param name="WindowEnd">Its end.</param>
/// <param name="Keys">The keys by count, highest first.</param>
[GenerateSerializer, Immutable, Alias("sg.api.top-response")]
public sealed record TopResponse([property: Id(0)] string Aggregation, [property: Id(1)] DateTimeOffset? WindowStart, [property: Id(2)] DateTimeOffset? WindowEnd, [property: Id(3)] IReadOnlyList<TopKey> Keys);

/// <summary>A key and its count.</summary>
/// <param name="Key">The key.</param>
/// <param name="Count">Its count in the window.</param>
[GenerateSerializer, Immutable, Alias("sg.api.top-key")]
public sealed record TopKey([property: Id(0)] string Key, [property: Id(1)] long Count);
