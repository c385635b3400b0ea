namespace StreamGrains.Events;

/// <summary>
/// One event of the platform's event contract: what a Kafka record carries as UTF-8 JSON, e.g.
/// <c>{"id":"evt-1","entity":"card-42","type":"payment","ts":"2026-11-24T10:00:00.123Z","value":12.5,"attrs":{"merchant":"m-7"}}</c>.
/// </summary>
[GenerateSerializer, Immutable, Alias("sg.event")]
public sealed record StreamEvent
{
    /// <summary>The longest entity id accepted.</summary>
    public const int MaxEntityLength = 256;

    /// <summary>The longest event type accepted.</summary>
    public const int MaxTypeLength = 64;

    /// <summary>The event's unique id, when the producer gave one.</summary>
    [Id(0)] public string? Id { get; init; }

    /// <summary>The entity the event is about (card, user, device...): also the Kafka record key and the grain key.</summary>
    [Id(1)] public required string Entity { get; init; }

    /// <summary>The kind of event, e.g. <c>payment</c> or <c>click</c>.</summary>
    [Id(2)] public required string Type { get; init; }

    /// <summary>The event time, as the producer stated it.</summary>
    [Id(3)] public required DateTimeOffset Timestamp { get; init; }

    /// <summary>The event's measure (an amount, a duration...), when it has one.</summary>
    [Id(4)] public double? Value { get; init; }

    /// <summary>Flat attributes: names to strings, numbers or booleans.</summary>
    [Id(5)] public IReadOnlyDictionary<string, AttributeValue> Attributes { get; init; } = EmptyAttributes;

    /// <summary>The attributes of an event that has none.</summary>
    public static IReadOnlyDictionary<string, AttributeValue> EmptyAttributes { get; } = new Dictionary<string, AttributeValue>(0);

    /// <summary>The attribute named <paramref name="name"/>, as text, or null.</summary>
    /// <param name="name">The attribute name.</param>
    public string? Attribute(string name) => Attributes.TryGetValue(name, out var value) ? value.ToString() : null;
}
