using StreamGrains.Decisions;
using StreamGrains.Events;

namespace StreamGrains.Rules;

/// <summary>What the rules decided about one event.</summary>
/// <param name="Decisions">One decision per rule that fired, in rule order (empty when none did).</param>
/// <param name="Filtered">Whether a <c>Filter</c> rule keeps the event off the enriched topic.</param>
/// <param name="Enrichments">The details of the <c>Enrich</c> rules that fired, by rule name (null when none did).</param>
public sealed record EventVerdict(IReadOnlyList<Decision> Decisions, bool Filtered, IReadOnlyDictionary<string, IReadOnlyDictionary<string, AttributeValue>>? Enrichments)
{
    /// <summary>Nothing fired.</summary>
    public static EventVerdict None { get; } = new([], false, null);
}
