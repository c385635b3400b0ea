using StreamGrains.Decisions;
using StreamGrains.Events;

namespace StreamGrains.Rules;

/// <summary>Fires when a numeric field (<c>value</c> or <c>attrs.&lt;name&gt;</c>) is greater than <c>Above</c> or less than <c>Below</c>.</summary>
public sealed class ThresholdRule : Rule
{
    private readonly string? _attribute;

    /// <summary>Creates the rule.</summary>
    /// <param name="name">Its name.</param>
    /// <param name="action">Its action.</param>
    /// <param name="eventTypes">The event types it looks at.</param>
    /// <param name="field"><c>value</c> or <c>attrs.&lt;name&gt;</c>.</param>
    /// <param name="above">Fires above this, if set.</param>
    /// <param name="below">Fires below this, if set.</param>
    public ThresholdRule(string name, RuleAction action, IEnumerable<string> eventTypes, string field, double? above, double? below)
        : base(name, action, eventTypes)
    {
        ArgumentNullException.ThrowIfNull(field);
        Field = field;
        _attribute = field.StartsWith(RuleCompiler.AttributePrefix, StringComparison.Ordinal) ? field[RuleCompiler.AttributePrefix.Length..] : null;
        Above = above;
        Below = below;
    }

    /// <inheritdoc />
    public override RuleKind Kind => RuleKind.Threshold;

    /// <summary>The field looked at.</summary>
    public string Field { get; }

    /// <summary>The upper bound.</summary>
    public double? Above { get; }

    /// <summary>The lower bound.</summary>
    public double? Below { get; }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, AttributeValue>? Evaluate(in RuleInput input)
    {
        double observed;
        if (_attribute is null)
        {
            if (input.Event.Value is not { } value)
            {
                return null;
            }

            observed = value;
        }
        else if (input.Event.Attributes.TryGetValue(_attribute, out var attribute) && attribute.Kind == AttributeKind.Number)
        {
            observed = attribute.Number;
        }
        else
        {
            return null;
        }

        if (Above is { } above && observed > above)
        {
            return new Dictionary<string, AttributeValue>(StringComparer.Ordinal) { ["field"] = Field, ["observed"] = observed, ["above"] = above };
        }

        if (Below is { } below && observed < below)
        {
            return new Dictionary<string, AttributeValue>(StringComparer.Ordinal) { ["field"] = Field, ["observed"] = observed, ["below"] = below };
        }

        return null;
    }
}
