namespace StreamGrains.Decisions;

/// <summary>What a rule that fires does besides writing its decision record (<c>StreamGrains:Rules:&lt;name&gt;:Action</c>).</summary>
public enum RuleAction
{
    /// <summary>Only the decision record: somebody should look.</summary>
    Alert,

    /// <summary>Marks the entity's profile with the rule's name (visible in <c>GET /api/profiles/{entity}</c>).</summary>
    Flag,

    /// <summary>Adds the decision's details to the event on <c>events.enriched</c>.</summary>
    Enrich,

    /// <summary>Keeps the event off <c>events.enriched</c>.</summary>
    Filter,
}
