namespace StreamGrains.Rules;

/// <summary>
/// One rule as configured: the section <c>StreamGrains:Rules:&lt;name&gt;</c>. Which keys a rule reads depends on its
/// <see cref="Kind"/>; <see cref="RuleCompiler"/> checks them and names any that is missing or wrong.
/// </summary>
public sealed class RuleSettings
{
    /// <summary><c>Threshold</c>, <c>Velocity</c>, <c>Deviation</c>, <c>NewValue</c>, <c>ContextMismatch</c> or <c>Expression</c>.</summary>
    public string? Kind { get; set; }

    /// <summary>The event types the rule looks at; empty: all.</summary>
    public List<string> EventTypes { get; set; } = [];

    /// <summary><c>Alert</c> (default), <c>Flag</c>, <c>Enrich</c> or <c>Filter</c>.</summary>
    public string Action { get; set; } = "Alert";

    /// <summary>Threshold: <c>value</c> (default) or <c>attrs.&lt;name&gt;</c>.</summary>
    public string Field { get; set; } = "value";

    /// <summary>Threshold: fires when the field is greater than this.</summary>
    public double? Above { get; set; }

    /// <summary>Threshold: fires when the field is less than this.</summary>
    public double? Below { get; set; }

    /// <summary>Velocity: how many matching events within <see cref="Within"/> make it fire.</summary>
    public int? Count { get; set; }

    /// <summary>Velocity: the span of event time counted back from each event.</summary>
    public TimeSpan? Within { get; set; }

    /// <summary>Deviation: how many standard deviations from the mean make it fire.</summary>
    public double? Sigmas { get; set; }

    /// <summary>Deviation: earlier values needed before it may fire.</summary>
    public int MinEvents { get; set; } = 20;

    /// <summary>NewValue and ContextMismatch: the event attribute.</summary>
    public string? Attribute { get; set; }

    /// <summary>ContextMismatch: the context attribute compared with (default: <see cref="Attribute"/>).</summary>
    public string? ContextAttribute { get; set; }

    /// <summary>Expression: a boolean expression over <c>value</c>, <c>type</c>, <c>attrs</c>, <c>profile</c> and <c>context</c>.</summary>
    public string? Expression { get; set; }
}
