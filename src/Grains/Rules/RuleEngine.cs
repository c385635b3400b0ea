using StreamGrains.Decisions;
using StreamGrains.Events;
using StreamGrains.Profiles;

namespace StreamGrains.Rules;

/// <summary>
/// Applies a rule book to an entity's events, one at a time and in order: each rule sees the event and the profile as
/// it was before the event; then the event joins the profile. <c>Flag</c> rules mark the profile, <c>Enrich</c> rules
/// add their details to the verdict, <c>Filter</c> rules mark it filtered; every rule that fires makes one decision.
/// </summary>
public static class RuleEngine
{
    /// <summary>Decides about <paramref name="evt"/> and takes it into <paramref name="profile"/>.</summary>
    /// <param name="rules">The rules.</param>
    /// <param name="evt">The event (of the profile's entity).</param>
    /// <param name="profile">The entity's profile: updated.</param>
    /// <param name="context">The entity's context (empty without any).</param>
    /// <param name="now">The decision time.</param>
    public static EventVerdict Decide(RuleBook rules, StreamEvent evt, EntityProfile profile, IReadOnlyDictionary<string, AttributeValue> context, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(evt);
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(context);
        List<Decision>? decisions = null;
        Dictionary<string, IReadOnlyDictionary<string, AttributeValue>>? enrichments = null;
        var filtered = false;
        var input = new RuleInput(evt, profile, context);
        foreach (var rule in rules.Rules)
        {
            if (!rule.Takes(evt.Type) || rule.Evaluate(input) is not { } details)
            {
                continue;
            }

            (decisions ??= []).Add(new Decision
            {
                Rule = rule.Name,
                Kind = rule.Kind,
                Action = rule.Action,
                Entity = evt.Entity,
                EventId = evt.Id,
                EventType = evt.Type,
                EventTimestamp = evt.Timestamp,
                DecidedAt = now,
                Details = details,
            });
            switch (rule.Action)
            {
                case RuleAction.Flag:
                    profile.Flag(rule.Name);
                    break;
                case RuleAction.Enrich:
                    (enrichments ??= new(StringComparer.Ordinal))[rule.Name] = details;
                    break;
                case RuleAction.Filter:
                    filtered = true;
                    break;
            }
        }

        profile.Apply(evt);
        if (decisions is null)
        {
            return EventVerdict.None;
        }

        foreach (var decision in decisions)
        {
            profile.CountDecision(decision.Rule);
        }

        return new EventVerdict(decisions, filtered, enrichments);
    }
}
