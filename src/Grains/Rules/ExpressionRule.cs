using DynamicExpresso;
using StreamGrains.Decisions;
using StreamGrains.Events;
using StreamGrains.Profiles;

namespace StreamGrains.Rules;

/// <summary>
/// Fires when a boolean expression (C# syntax, evaluated by DynamicExpresso) is true. The expression sees <c>value</c>
/// (a number; NaN when the event has none, so every comparison with it is false), <c>type</c> (text), <c>attrs</c> and
/// <c>context</c> (<see cref="ExpressionAttributes"/>: <c>attrs["country"]</c> is the attribute as text, "" when absent;
/// <c>attrs.Number("amount")</c>, <c>attrs.Has("x")</c>) and <c>profile</c> (<see cref="ExpressionProfile"/>: the profile
/// before the event: <c>profile.Count</c>, <c>profile.Mean</c>, <c>profile.CountOf("payment")</c>...). Names are not
/// case-sensitive. Example: <c>value &gt; 3 * profile.Mean &amp;&amp; attrs["country"] != context["country"]</c>.
/// </summary>
public sealed class ExpressionRule : Rule
{
    private readonly Func<double, string, ExpressionAttributes, ExpressionProfile, ExpressionAttributes, bool> _predicate;
    private readonly IReadOnlyDictionary<string, AttributeValue> _details;

    /// <summary>Compiles the rule.</summary>
    /// <param name="name">Its name.</param>
    /// <param name="action">Its action.</param>
    /// <param name="eventTypes">The event types it looks at.</param>
    /// <param name="expression">The expression.</param>
    /// <exception cref="DynamicExpresso.Exceptions.DynamicExpressoException">The expression does not parse or is not boolean.</exception>
    public ExpressionRule(string name, RuleAction action, IEnumerable<string> eventTypes, string expression)
        : base(name, action, eventTypes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(expression);
        Expression = expression;
        var interpreter = new Interpreter(InterpreterOptions.Default | InterpreterOptions.CaseInsensitive);
        _predicate = interpreter.ParseAsDelegate<Func<double, string, ExpressionAttributes, ExpressionProfile, ExpressionAttributes, bool>>(
            expression, "value", "type", "attrs", "profile", "context");
        _details = new Dictionary<string, AttributeValue>(StringComparer.Ordinal) { ["expression"] = expression };
    }

    /// <inheritdoc />
    public override RuleKind Kind => RuleKind.Expression;

    /// <summary>The expression.</summary>
    public string Expression { get; }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, AttributeValue>? Evaluate(in RuleInput input)
    {
        var evt = input.Event;
        return _predicate(evt.Value ?? double.NaN, evt.Type, new ExpressionAttributes(evt.Attributes), new ExpressionProfile(input.Profile), new ExpressionAttributes(input.Context))
            ? _details
            : null;
    }
}

/// <summary>Attributes as an expression sees them.</summary>
/// <param name="attributes">The attributes.</param>
public sealed class ExpressionAttributes(IReadOnlyDictionary<string, AttributeValue> attributes)
{
    /// <summary>The attribute as text; "" when absent.</summary>
    /// <param name="name">The attribute's name.</param>
    public string this[string name] => attributes.TryGetValue(name, out var value) ? value.ToString() : string.Empty;

    /// <summary>Whether the attribute is present.</summary>
    /// <param name="name">The attribute's name.</param>
    public bool Has(string name) => attributes.ContainsKey(name);

    /// <summary>The attribute as a number: a number as it is, a boolean as 1 or 0; NaN when absent or text.</summary>
    /// <param name="name">The attribute's name.</param>
    public double Number(string name) =>
        attributes.TryGetValue(name, out var value) && value.Kind != AttributeKind.Text ? value.Number : double.NaN;
}

/// <summary>A profile as an expression sees it (before the event under decision).</summary>
/// <param name="profile">The profile.</param>
public sealed class ExpressionProfile(EntityProfile profile)
{
    /// <summary>Events seen.</summary>
    public long Count => profile.Count;

    /// <summary>Values seen.</summary>
    public long ValueCount => profile.Values.Count;

    /// <summary>The sum of the values.</summary>
    public double Sum => profile.Values.Sum;

    /// <summary>The mean of the values.</summary>
    public double Mean => profile.Values.Mean;

    /// <summary>The standard deviation of the values.</summary>
    public double StdDev => profile.Values.StdDev;

    /// <summary>The smallest value (NaN without any).</summary>
    public double Min => profile.Values.Min ?? double.NaN;

    /// <summary>The largest value (NaN without any).</summary>
    public double Max => profile.Values.Max ?? double.NaN;

    /// <summary>The anomaly score.</summary>
    public double AnomalyScore => profile.AnomalyScore;

    /// <summary>Events seen of type <paramref name="type"/>.</summary>
    /// <param name="type">An event type.</param>
    public long CountOf(string type) => profile.CountsByType.GetValueOrDefault(type);

    /// <summary>Whether the entity carries the flag <paramref name="name"/>.</summary>
    /// <param name="name">A flag (a Flag rule's name).</param>
    public bool HasFlag(string name) => profile.Flags.Contains(name);
}
