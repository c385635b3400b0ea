using StreamGrains.Events;

namespace StreamGrains.Profiles;

/// <summary>
/// The state of one entity's profile: running statistics of its values, what it did and when, the values its attributes
/// took, its flags and anomaly score, and the state rules keep per entity. A plain class: the profile grain holds and
/// persists it; <see cref="Rules.RuleEngine"/> reads and updates it.
/// </summary>
[GenerateSerializer, Alias("sg.entity-profile")]
public sealed class EntityProfile
{
    /// <summary>The weight of the newest absolute z-score in <see cref="AnomalyScore"/>.</summary>
    public const double AnomalyWeight = 0.2;

    /// <summary>Event types counted separately; events of further types are counted under <c>"(other)"</c>.</summary>
    public const int MaxEventTypes = 64;

    /// <summary>Events seen.</summary>
    [Id(0)] public long Count { get; private set; }

    /// <summary>Statistics of the events' values.</summary>
    [Id(1)] public RunningStatistics Values { get; private set; } = new();

    /// <summary>The earliest event time seen.</summary>
    [Id(2)] public DateTimeOffset FirstEventTime { get; private set; }

    /// <summary>The latest event time seen.</summary>
    [Id(3)] public DateTimeOffset LastEventTime { get; private set; }

    /// <summary>Events per type.</summary>
    [Id(4)] public Dictionary<string, long> CountsByType { get; private set; } = new(StringComparer.Ordinal);

    /// <summary>The last few distinct values of each attribute.</summary>
    [Id(5)] public RecentValues Recent { get; private set; } = new();

    /// <summary>The names of the <c>Flag</c> rules that fired.</summary>
    [Id(6)] public SortedSet<string> Flags { get; private set; } = new(StringComparer.Ordinal);

    /// <summary>The exponentially weighted average of the absolute z-scores of the values.</summary>
    [Id(7)] public double AnomalyScore { get; private set; }

    /// <summary>Decisions made, by rule.</summary>
    [Id(8)] public Dictionary<string, long> DecisionsByRule { get; private set; } = new(StringComparer.Ordinal);

    /// <summary>State of stateful rules, by rule name.</summary>
    [Id(9)] public Dictionary<string, Rules.RuleState> RuleStates { get; private set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The offset up to which the events of each partition are in this state (the next offset to take): an event at a
    /// lower offset is a replay and changes nothing.
    /// </summary>
    [Id(10)] public Dictionary<int, long> NextOffsets { get; private set; } = [];

    /// <summary>Whether an event was ever seen.</summary>
    public bool IsEmpty => Count == 0;

    /// <summary>Takes one event into the statistics (after the rules looked at it).</summary>
    /// <param name="evt">The event.</param>
    public void Apply(StreamEvent evt)
    {
        ArgumentNullException.ThrowIfNull(evt);
        if (Count == 0 || evt.Timestamp < FirstEventTime)
        {
            FirstEventTime = evt.Timestamp;
        }

        if (Count == 0 || evt.Timestamp > LastEventTime)
        {
            LastEventTime = evt.Timestamp;
        }

        Count++;
        var type = CountsByType.Count < MaxEventTypes || CountsByType.ContainsKey(evt.Type) ? evt.Type : "(other)";
        CountsByType[type] = CountsByType.GetValueOrDefault(type) + 1;

        if (evt.Value is { } value && double.IsFinite(value))
        {
            if (Values.Count >= 2)
            {
                AnomalyScore = (AnomalyWeight * Math.Abs(Values.ZScore(value))) + ((1 - AnomalyWeight) * AnomalyScore);
            }

            Values.Add(value);
        }

        foreach (var (name, attribute) in evt.Attributes)
        {
            Recent.Add(name, attribute.ToString());
        }
    }

    /// <summary>Counts a decision of <paramref name="rule"/>.</summary>
    /// <param name="rule">The rule's name.</param>
    public void CountDecision(string rule) => DecisionsByRule[rule] = DecisionsByRule.GetValueOrDefault(rule) + 1;

    /// <summary>Marks the entity with the flag <paramref name="rule"/>.</summary>
    /// <param name="rule">The rule's name.</param>
    public void Flag(string rule) => Flags.Add(rule);

    /// <summary>The state rule <paramref name="rule"/> keeps for this entity, made when first asked for.</summary>
    /// <param name="rule">The rule's name.</param>
    public Rules.RuleState StateOf(string rule)
    {
        if (!RuleStates.TryGetValue(rule, out var state))
        {
            RuleStates[rule] = state = new Rules.RuleState();
        }

        return state;
    }

    /// <summary>
    /// True when the event at <paramref name="offset"/> of <paramref name="partition"/> is already in this state (a replay);
    /// otherwise records it as taken.
    /// </summary>
    /// <param name="partition">The Kafka partition.</param>
    /// <param name="offset">The record's offset.</param>
    public bool IsReplay(int partition, long offset)
    {
        if (NextOffsets.TryGetValue(partition, out var next) && offset < next)
        {
            return true;
        }

        NextOffsets[partition] = offset + 1;
        return false;
    }

    /// <summary>The profile as the API shows it.</summary>
    /// <param name="entity">The entity.</param>
    /// <param name="context">The entity's context.</param>
    /// <param name="contextLoadedAt">When the context was loaded.</param>
    public ProfileSnapshot ToSnapshot(string entity, IReadOnlyDictionary<string, AttributeValue> context, DateTimeOffset? contextLoadedAt) => new()
    {
        Entity = entity,
        Count = Count,
        ValueCount = Values.Count,
        Sum = Values.Sum,
        Mean = Values.Mean,
        StdDev = Values.StdDev,
        Min = Values.Min,
        Max = Values.Max,
        FirstEventTime = FirstEventTime,
        LastEventTime = LastEventTime,
        CountsByType = new Dictionary<string, long>(CountsByType, StringComparer.Ordinal),
        RecentValues = Recent.Values.ToDictionary(p => p.Key, p => (IReadOnlyList<string>)p.Value.ToArray(), StringComparer.Ordinal),
        Flags = Flags.ToArray(),
        Context = context,
        ContextLoadedAt = contextLoadedAt,
        AnomalyScore = AnomalyScore,
        DecisionsByRule = new Dictionary<string, long>(DecisionsByRule, StringComparer.Ordinal),
    };
}
