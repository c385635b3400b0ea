namespace StreamGrains.Api;

/// <summary>The body of <c>GET /api/stats</c>.</summary>
/// <param name="Silo">This silo (now).</param>
/// <param name="Cluster">Every live silo, added up (each as of its last report, at most two seconds old).</param>
/// <param name="Silos">How many silos the cluster figures cover.</param>
[GenerateSerializer, Immutable, Alias("sg.api.stats-response")]
public sealed record StatsResponse([property: Id(0)] StatsInfo Silo, [property: Id(1)] StatsInfo Cluster, [property: Id(2)] int Silos);

/// <summary>Profile statistics of a silo or of the cluster.</summary>
/// <param name="EventsProcessed">Events taken into profiles.</param>
/// <param name="Decisions">Decisions made.</param>
/// <param name="DecisionsByRule">Decisions by rule.</param>
/// <param name="DeadLetters">Records sent to dead-letter topics.</param>
/// <param name="DecisionLatencyMs">Decision latency percentiles, from the record's Kafka timestamp to the decision handed to the producer.</param>
/// <param name="ActiveProfiles">Profile grains active.</param>
/// <param name="ReplaysSkipped">Replayed events (after a crash or a rewind) the profiles recognised by offset and did not count again.</param>
/// <param name="DuplicateDecisionsSuppressed">Decisions about replayed events that were found published already and not published again.</param>
[GenerateSerializer, Immutable, Alias("sg.api.stats-info")]
public sealed record StatsInfo([property: Id(0)] long EventsProcessed, [property: Id(1)] long Decisions, [property: Id(2)] IReadOnlyDictionary<string, long> DecisionsByRule, [property: Id(3)] long DeadLetters, [property: Id(4)] LatencyInfo DecisionLatencyMs, [property: Id(5)] long ActiveProfiles, [property: Id(6)] long ReplaysSkipped, [property: Id(7)] long DuplicateDecisionsSuppressed);

/// <summary>Latency percentiles in milliseconds (null before the first decision).</summary>
/// <param name="Count">Decisions measured.</param>
/// <param name="P50">The median.</param>
/// <param name="P99">The 99th percentile.</param>
[GenerateSerializer, Immutable, Alias("sg.api.latency-info")]
public sealed record LatencyInfo([property: Id(0)] long Count, [property: Id(1)] double? P50, [property: Id(2)] double? P99);
