using StreamGrains.Decisions;
using StreamGrains.Events;

namespace StreamGrains.Rules;

/// <summary>
/// Fires when the event's <see cref="Attribute"/> differs from the entity's context attribute
/// <see cref="ContextAttribute"/>. Nothing to compare (the event lacks the attribute, or the context has no value for
/// it): no decision.
/// </summary>
public sealed class ContextMismatchRule : Rule
{
    /// <summary>Creates the rule.</summary>
    /// <param name="name">Its name.</param>
    /// <param name="action">Its action.</param>
    /// <param name="eventTypes">The event types it looks at.</param>
    /// <param name="attribute">The event attribute.</param>
    /// <param name="contextAttribute">The context attribute.</param>
    public ContextMismatchRule(string name, RuleAction action, IEnumerable<string> eventTypes, string attribute, string contextAttribute)
        : base(name, action, eventTypes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(attribute);
        ArgumentException.ThrowIfNullOrWhiteSpace(contextAttribute);
        Attribute = attribute;
        ContextAttribute = contextAttribute;
    }

    /// <inheritdoc />
    public override RuleKind Kind => RuleKind.ContextMismatch;

    /// <summary>The event attribute.</summary>
    public string Attribute { get; }

    /// <summary>The context attribute.</summary>
    public string ContextAttribute { get; }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, AttributeValue>? Evaluate(in RuleInput input)
    {
        if (!input.Event.Attributes.TryGetValue(Attribute, out var observed) || !input.Context.TryGetValue(ContextAttribute, out var expected))
        {
            return null;
        }

        var observedText = observed.ToString();
        var expectedText = expected.ToString();
        return string.Equals(observedText, expectedText, StringComparison.Ordinal)
            ? null
            : new Dictionary<string, AttributeValue>(StringComparer.Ordinal)
            {
                ["attribute"] = Attribute,
                ["value"] = observedText,
                ["contextAttribute"] = ContextAttribute,
                ["contextValue"] = expectedText,
            };
    }
}
