using StreamGrains.Decisions;
using StreamGrains.Events;
using StreamGrains.Outputs;

namespace StreamGrains.Profiles;

/// <summary>
/// Where profile grains send what they decide: decision records and enriched events. The host implements it over
/// Kafka (the <c>decisions</c> and <c>events.enriched</c> topics); both calls return at once and never throw for a
/// broker that is away (the producer retries, and counts what it could not deliver). Each record sent is counted in the
/// grain's <see cref="UnacknowledgedOutputs"/> until Kafka acknowledges it.
/// </summary>
public interface IProfileOutput
{
    /// <summary>Whether <see cref="Passed"/> goes anywhere (an enriched topic is configured).</summary>
    bool EnrichedEnabled { get; }

    /// <summary>
    /// Publishes a decision, unless the same rule's decision about the same record was published before a crash (the
    /// record is being replayed): decisions are effectively once.
    /// </summary>
    /// <param name="decision">The decision.</param>
    /// <param name="partition">The partition of the record the decision is about (-1 when unknown).</param>
    /// <param name="offset">Its offset (-1 when unknown).</param>
    /// <param name="unacknowledged">The grain's records not yet acknowledged: counts this one until it is.</param>
    /// <returns>False when the decision was published already and was not published again.</returns>
    bool Decided(Decision decision, int partition, long offset, UnacknowledgedOutputs unacknowledged);

    /// <summary>Publishes an event no <c>Filter</c> rule dropped, with the profile's summary and the enrichments.</summary>
    /// <param name="evt">The event.</param>
    /// <param name="summary">The profile after the event.</param>
    /// <param name="enrichments">The details of the <c>Enrich</c> rules that fired, by rule, or null.</param>
    /// <param name="unacknowledged">The grain's records not yet acknowledged: counts this one until it is.</param>
    void Passed(StreamEvent evt, ProfileSummary summary, IReadOnlyDictionary<string, IReadOnlyDictionary<string, AttributeValue>>? enrichments, UnacknowledgedOutputs unacknowledged);
}

/// <summary>The part of a profile that travels with each enriched event.</summary>
/// <param name="Count">Events seen.</param>
/// <param name="Mean">The mean value.</param>
/// <param name="StdDev">The standard deviation of the values.</param>
/// <param name="AnomalyScore">The anomaly score.</param>
/// <param name="Flags">The entity's flags.</param>
public sealed record ProfileSummary(long Count, double Mean, double StdDev, double AnomalyScore, IReadOnlyCollection<string> Flags);
