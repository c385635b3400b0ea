namespace StreamGrains.Decisions;

/// <summary>The kinds of decision rule (<c>StreamGrains:Rules:&lt;name&gt;:Kind</c>).</summary>
public enum RuleKind
{
    /// <summary>Fires when a field is greater than <c>Above</c> or less than <c>Below</c>.</summary>
    Threshold,

    /// <summary>Fires when the entity has at least <c>Count</c> matching events within <c>Within</c> of event time.</summary>
    Velocity,

    /// <summary>Fires when <c>value</c> is more than <c>Sigmas</c> standard deviations from the entity's earlier mean.</summary>
    Deviation,

    /// <summary>Fires when an attribute takes a value the entity never had (not on its first value).</summary>
    NewValue,

    /// <summary>Fires when an attribute of the event differs from the entity's context attribute.</summary>
    ContextMismatch,

    /// <summary>Fires when a boolean expression over the event, the profile and the context is true.</summary>
    Expression,
}
