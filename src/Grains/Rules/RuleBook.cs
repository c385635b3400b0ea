namespace StreamGrains.Rules;

/// <summary>The rules a silo applies to every event: the configured ones, and the demo's while demo traffic runs.</summary>
public sealed class RuleBook
{
    /// <summary>Creates a rule book.</summary>
    /// <param name="rules">The rules, in the order they are applied.</param>
    public RuleBook(IReadOnlyList<Rule> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var duplicate = rules.GroupBy(r => r.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"Two rules are named '{duplicate.Key}'.", nameof(rules));
        }

        Rules = rules;
    }

    /// <summary>A rule book without rules: nothing fires.</summary>
    public static RuleBook Empty { get; } = new([]);

    /// <summary>The rules.</summary>
    public IReadOnlyList<Rule> Rules { get; }
}
