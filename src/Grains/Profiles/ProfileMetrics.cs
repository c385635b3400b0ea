using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using StreamGrains.Decisions;
using StreamGrains.Sketches;

namespace StreamGrains.Profiles;

/// <summary>
/// What the profiles of this silo did: the instruments on the platform's meter <c>StreamGrains</c> (decisions by rule
/// and action, decision latency, active profiles, context load time) and the running totals <c>/api/stats</c> reports.
/// Thread-safe; one per silo.
/// </summary>
public sealed class ProfileMetrics
{
    /// <summary>The platform's meter (shared with the provider and the archive).</summary>
    public const string MeterName = "StreamGrains";

    private readonly Counter<long> _decisions;
    private readonly Counter<long> _events;
    private readonly Histogram<double> _latency;
    private readonly Histogram<double> _contextLoad;
    private readonly ConcurrentDictionary<string, long> _decisionsByRule = new(StringComparer.Ordinal);
    private readonly Lock _sketchGate = new();
    private readonly QuantileSketch _latencySketch = new();
    private long _eventsProcessed;
    private long _active;
    private long _replaysSkipped;

    /// <summary>Creates the instruments.</summary>
    /// <param name="meterFactory">The host's meter factory.</param>
    public ProfileMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _decisions = meter.CreateCounter<long>("streamgrains.decisions", "{decision}", "Decisions made, by rule and action.");
        _events = meter.CreateCounter<long>("streamgrains.profiles.events", "{event}", "Events taken into profiles (replays excluded).");
        _latency = meter.CreateHistogram<double>(
            "streamgrains.decision.latency",
            "ms",
            "From the Kafka timestamp of an event's record to its decision handed to the producer.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 1, 2, 3, 5, 7.5, 10, 15, 25, 50, 100, 250, 500, 1000, 2500] });
        _contextLoad = meter.CreateHistogram<double>("streamgrains.context.load.duration", "ms", "How long loading one entity's context took.");
        meter.CreateObservableUpDownCounter("streamgrains.profiles.active", () => Interlocked.Read(ref _active), "{profile}", "Profile grains active on this silo.");
    }

    /// <summary>Events taken into profiles on this silo.</summary>
    public long EventsProcessed => Interlocked.Read(ref _eventsProcessed);

    /// <summary>Replayed events recognised and skipped.</summary>
    public long ReplaysSkipped => Interlocked.Read(ref _replaysSkipped);

    /// <summary>Profiles active on this silo.</summary>
    public long ActiveProfiles => Interlocked.Read(ref _active);

    /// <summary>Decisions made on this silo, by rule.</summary>
    public IReadOnlyDictionary<string, long> DecisionsByRule => new Dictionary<string, long>(_decisionsByRule, StringComparer.Ordinal);

    /// <summary>A copy of the decision latency sketch (milliseconds), for percentiles and for merging across silos.</summary>
    public QuantileSketch LatencySketch()
    {
        lock (_sketchGate)
        {
            var copy = new QuantileSketch(_latencySketch.RelativeAccuracy);
            copy.Merge(_latencySketch);
            return copy;
        }
    }

    internal void Activated() => Interlocked.Increment(ref _active);

    internal void Deactivated() => Interlocked.Decrement(ref _active);

    internal void Processed(int events, int replays)
    {
        Interlocked.Add(ref _eventsProcessed, events);
        Interlocked.Add(ref _replaysSkipped, replays);
        _events.Add(events);
    }

    internal void Decided(Decision decision, double? latencyMs)
    {
        _decisionsByRule.AddOrUpdate(decision.Rule, 1, (_, n) => n + 1);
        _decisions.Add(1, new KeyValuePair<string, object?>("rule", decision.Rule), new KeyValuePair<string, object?>("action", decision.Action.ToString()));
        if (latencyMs is { } latency)
        {
            latency = Math.Max(0, latency);
            _latency.Record(latency);
            lock (_sketchGate)
            {
                _latencySketch.Add(latency);
            }
        }
    }

    internal void ContextLoaded(double durationMs) => _contextLoad.Record(durationMs);
}
