using System.Diagnostics.Metrics;

namespace StreamGrains.Aggregations;

/// <summary>
/// The aggregations' instruments on the <c>StreamGrains</c> meter: windows and sessions emitted and late events, by
/// aggregation; the watermark lag of each partition this silo read in the last minute (wall clock minus watermark).
/// </summary>
public sealed class AggregationMetrics
{
    private readonly Counter<long> _emitted;
    private readonly Counter<long> _late;
    private readonly Dictionary<int, (long WatermarkMs, long ReadAt)> _watermarks = [];

    /// <summary>A partition this silo read no record of for this long is no longer reported (it moved, or is quiet).</summary>
    private static readonly long ReportedFor = (long)TimeSpan.FromMinutes(1).TotalMilliseconds;

    /// <summary>Creates the instruments.</summary>
    /// <param name="meters">The meter factory.</param>
    public AggregationMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(Profiles.ProfileMetrics.MeterName); // the factory owns (and disposes) it
        _emitted = meter.CreateCounter<long>("streamgrains.aggregations.windows.emitted", "{window}", "Final windows and closed sessions published, by aggregation.");
        _late = meter.CreateCounter<long>("streamgrains.aggregations.late", "{event}", "Events sent to events.late, by aggregation and reason.");
        meter.CreateObservableGauge("streamgrains.aggregations.watermark.lag", ObserveLag, "s", "How far each partition's watermark is behind the wall clock.");
    }

    /// <summary>Counts a window or session emitted.</summary>
    /// <param name="aggregation">The aggregation.</param>
    public void WindowEmitted(string aggregation)
    {
        _emitted.Add(1, new KeyValuePair<string, object?>("aggregation", aggregation));
    }

    /// <summary>Counts a late event.</summary>
    /// <param name="aggregation">The aggregation.</param>
    /// <param name="reason">Why it is late.</param>
    public void LateEvent(string aggregation, LateReason reason)
    {
        _late.Add(1, new KeyValuePair<string, object?>("aggregation", aggregation), new KeyValuePair<string, object?>("reason", reason.ToString()));
    }

    /// <summary>Notes a partition's watermark, as of a read of it.</summary>
    /// <param name="partition">The partition.</param>
    /// <param name="watermarkMs">Its watermark.</param>
    public void Watermark(int partition, long watermarkMs)
    {
        lock (_watermarks)
        {
            _watermarks[partition] = (watermarkMs, Environment.TickCount64);
        }
    }

    private IEnumerable<Measurement<double>> ObserveLag()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        lock (_watermarks)
        {
            var tick = Environment.TickCount64;
            return _watermarks
                .Where(w => w.Value.WatermarkMs != long.MinValue && tick - w.Value.ReadAt < ReportedFor)
                .Select(w => new Measurement<double>((now - w.Value.WatermarkMs) / 1000.0, new KeyValuePair<string, object?>("partition", w.Key)))
                .ToList();
        }
    }
}
