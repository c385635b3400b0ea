namespace StreamGrains.Aggregations;

/// <summary>What an aggregation groups its events by.</summary>
public enum GroupKind
{
    /// <summary>The event's entity: the Kafka key, so one partition feeds each group.</summary>
    Entity,

    /// <summary>An attribute's value: a re-keyed group that any partition may feed.</summary>
    Attribute,

    /// <summary>One global key, <c>*</c>, fed by every partition.</summary>
    Global,
}
