using StreamGrains.Decisions;
using StreamGrains.Events;

namespace StreamGrains.Rules;

/// <summary>
/// Fires when <see cref="Attribute"/> takes a value the entity never had before; never on the attribute's first value.
/// Remembers up to <see cref="MaxKnownValues"/> values per entity; past that, it stops learning (and keeps firing on
/// values it could not remember).
/// </summary>
public sealed class NewValueRule : Rule
{
    /// <summary>Values remembered per entity at most.</summary>
    public const int MaxKnownValues = 1_000;

    /// <summary>Creates the rule.</summary>
    /// <param name="name">Its name.</param>
    /// <param name="action">Its action.</param>
    /// <param name="eventTypes">The event types it looks at.</param>
    /// <param name="attribute">The attribute.</param>
    public NewValueRule(string name, RuleAction action, IEnumerable<string> eventTypes, string attribute)
        : base(name, action, eventTypes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(attribute);
        Attribute = attribute;
    }

    /// <inheritdoc />
    public override RuleKind Kind => RuleKind.NewValue;

    /// <summary>The attribute.</summary>
    public string Attribute { get; }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, AttributeValue>? Evaluate(in RuleInput input)
    {
        if (!input.Event.Attributes.TryGetValue(Attribute, out var attribute))
        {
            return null;
        }

        var value = attribute.ToString();
        var state = input.Profile.StateOf(Name);
        var seen = state.Seen ??= new HashSet<string>(StringComparer.Ordinal);
        if (seen.Contains(value))
        {
            return null;
        }

        var known = seen.Count;
        if (known < MaxKnownValues)
        {
            seen.Add(value);
        }

        return known == 0
            ? null
            : new Dictionary<string, AttributeValue>(StringComparer.Ordinal)
            {
                ["attribute"] = Attribute,
                ["value"] = value,
                ["knownValues"] = known,
            };
    }
}
