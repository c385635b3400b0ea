using StreamGrains.Events;

namespace StreamGrains.Decisions;

/// <summary>
/// What a rule decided about one event: the value of one record of the <c>decisions</c> topic (key: the entity), e.g.
/// <c>{"rule":"big","kind":"Threshold","action":"Alert","entity":"card-1","eventId":"e-9","eventType":"payment",
/// "eventTs":"2026-11-26T10:00:00Z","decidedAt":"2026-11-26T10:00:00.004Z","details":{"field":"value","observed":900,"above":500}}</c>.
/// </summary>
[GenerateSerializer, Immutable, Alias("sg.decision")]
public sealed record Decision
{
    /// <summary>The rule's name (its configuration section).</summary>
    [Id(0)] public required string Rule { get; init; }

    /// <summary>The rule's kind.</summary>
    [Id(1)] public required RuleKind Kind { get; init; }

    /// <summary>The rule's action.</summary>
    [Id(2)] public required RuleAction Action { get; init; }

    /// <summary>The entity.</summary>
    [Id(3)] public required string Entity { get; init; }

    /// <summary>The event's id (null when the producer gave none).</summary>
    [Id(4)] public string? EventId { get; init; }

    /// <summary>The event's type.</summary>
    [Id(5)] public required string EventType { get; init; }

    /// <summary>The event's time.</summary>
    [Id(6)] public required DateTimeOffset EventTimestamp { get; init; }

    /// <summary>When the decision was made.</summary>
    [Id(7)] public required DateTimeOffset DecidedAt { get; init; }

    /// <summary>Why the rule fired: what it observed and what it compared with.</summary>
    [Id(8)] public IReadOnlyDictionary<string, AttributeValue> Details { get; init; } = StreamEvent.EmptyAttributes;
}
