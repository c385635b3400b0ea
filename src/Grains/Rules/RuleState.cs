namespace StreamGrains.Rules;

/// <summary>What a stateful rule remembers about one entity.</summary>
[GenerateSerializer, Alias("sg.rule-state")]
public sealed class RuleState
{
    /// <summary>Velocity: the event times (UTC ticks) of matching events still inside the rule's span, ascending.</summary>
    [Id(0)] public List<long>? Times { get; set; }

    /// <summary>NewValue: every value the attribute took (capped at <see cref="NewValueRule.MaxKnownValues"/>).</summary>
    [Id(1)] public HashSet<string>? Seen { get; set; }
}
