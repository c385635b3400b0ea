using StreamGrains.Events;
using StreamGrains.Profiles;

namespace StreamGrains.Rules;

/// <summary>What a rule sees of one event: the event, the entity's profile before the event, and its context.</summary>
/// <param name="Event">The event.</param>
/// <param name="Profile">The profile, not yet updated with the event.</param>
/// <param name="Context">The entity's external context (empty without any).</param>
public readonly record struct RuleInput(StreamEvent Event, EntityProfile Profile, IReadOnlyDictionary<string, AttributeValue> Context);
