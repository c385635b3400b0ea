using StreamGrains.Decisions;
using StreamGrains.Events;

namespace StreamGrains.Rules;

/// <summary>A compiled rule: decides about one event at a time. Made by <see cref="RuleCompiler"/>; immutable and thread-safe.</summary>
public abstract class Rule
{
    private readonly HashSet<string>? _eventTypes;

    /// <summary>Creates a rule.</summary>
    /// <param name="name">Its name.</param>
    /// <param name="action">Its action.</param>
    /// <param name="eventTypes">The event types it looks at; empty: all.</param>
    protected Rule(string name, RuleAction action, IEnumerable<string> eventTypes)
    {
        Name = name;
        Action = action;
        var types = eventTypes.Where(t => !string.IsNullOrWhiteSpace(t)).ToHashSet(StringComparer.Ordinal);
        _eventTypes = types.Count == 0 ? null : types;
    }

    /// <summary>The rule's name.</summary>
    public string Name { get; }

    /// <summary>The rule's kind.</summary>
    public abstract RuleKind Kind { get; }

    /// <summary>The rule's action.</summary>
    public RuleAction Action { get; }

    /// <summary>Whether the rule looks at events of type <paramref name="type"/>.</summary>
    /// <param name="type">An event type.</param>
    public bool Takes(string type) => _eventTypes is null || _eventTypes.Contains(type);

    /// <summary>
    /// Looks at an event the rule takes: the details of the decision when it fires, else null. Stateful rules update
    /// their state in the profile here, fired or not.
    /// </summary>
    /// <param name="input">The event, the profile before it, the context.</param>
    public abstract IReadOnlyDictionary<string, AttributeValue>? Evaluate(in RuleInput input);
}
