using StreamGrains.Sketches;

namespace StreamGrains.Statistics;

/// <summary>What one silo's profiles did since it started: what <c>/api/stats</c> reports and adds up across the cluster.</summary>
[GenerateSerializer, Immutable, Alias("sg.silo-profile-stats")]
public sealed record SiloProfileStats
{
    /// <summary>The silo.</summary>
    [Id(0)] public required string Silo { get; init; }

    /// <summary>Events taken into profiles.</summary>
    [Id(1)] public long EventsProcessed { get; init; }

    /// <summary>Decisions by rule.</summary>
    [Id(2)] public IReadOnlyDictionary<string, long> DecisionsByRule { get; init; } = new Dictionary<string, long>();

    /// <summary>Records sent to dead-letter topics.</summary>
    [Id(3)] public long DeadLetters { get; init; }

    /// <summary>Profiles active.</summary>
    [Id(4)] public long ActiveProfiles { get; init; }

    /// <summary>Decision latency in milliseconds, as a mergeable sketch.</summary>
    [Id(5)] public QuantileSketch DecisionLatency { get; init; } = new();

    /// <summary>When the silo made this report.</summary>
    [Id(6)] public DateTimeOffset ReportedAt { get; init; }

    /// <summary>Replayed events the profiles recognised (by offset) and did not count again.</summary>
    [Id(7)] public long ReplaysSkipped { get; init; }

    /// <summary>Decisions about replayed records found already published, and not published again.</summary>
    [Id(8)] public long DuplicateDecisionsSuppressed { get; init; }

    /// <summary>The sum of several silos' statistics (latency sketches merged).</summary>
    /// <param name="silos">The silos' statistics.</param>
    /// <param name="name">The name of the sum.</param>
    public static SiloProfileStats Sum(IEnumerable<SiloProfileStats> silos, string name)
    {
        ArgumentNullException.ThrowIfNull(silos);
        var latency = new QuantileSketch();
        var byRule = new Dictionary<string, long>(StringComparer.Ordinal);
        long events = 0, deadLetters = 0, active = 0, replays = 0, suppressed = 0;
        var reportedAt = DateTimeOffset.MinValue;
        foreach (var silo in silos)
        {
            events += silo.EventsProcessed;
            deadLetters += silo.DeadLetters;
            active += silo.ActiveProfiles;
            replays += silo.ReplaysSkipped;
            suppressed += silo.DuplicateDecisionsSuppressed;
            latency.Merge(silo.DecisionLatency);
            foreach (var (rule, count) in silo.DecisionsByRule)
            {
                byRule[rule] = byRule.GetValueOrDefault(rule) + count;
            }

            reportedAt = silo.ReportedAt > reportedAt ? silo.ReportedAt : reportedAt;
        }

        return new SiloProfileStats
        {
            Silo = name,
            EventsProcessed = events,
            DecisionsByRule = byRule,
            DeadLetters = deadLetters,
            ActiveProfiles = active,
            DecisionLatency = latency,
            ReportedAt = reportedAt,
            ReplaysSkipped = replays,
            DuplicateDecisionsSuppressed = suppressed,
        };
    }
}
