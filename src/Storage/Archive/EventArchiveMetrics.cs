using System.Diagnostics.Metrics;

namespace StreamGrains.Storage.Archive;

/// <summary>
/// The event archive's instruments, on the platform's meter <c>StreamGrains</c> (the host's meter factory owns it and
/// disposes it).
/// </summary>
public sealed class EventArchiveMetrics
{
    private readonly Meter _meter;
    private readonly Counter<long> _rows;
    private readonly Histogram<double> _batchDuration;
    private readonly Histogram<double> _lag;
    private readonly Counter<long> _failures;
    private readonly Counter<long> _rejected;

    /// <summary>Creates the instruments.</summary>
    /// <param name="meterFactory">The host's meter factory.</param>
    /// <param name="pending">Reads how many rows wait to be written.</param>
    public EventArchiveMetrics(IMeterFactory meterFactory, Func<long> pending)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(Kafka.Statistics.KafkaStreamMetrics.MeterName);
        _rows = _meter.CreateCounter<long>("streamgrains.archive.rows", "{row}", "Events written to the archive (a replayed event that was there already counts too).");
        _batchDuration = _meter.CreateHistogram<double>("streamgrains.archive.batch.duration", "ms", "How long writing one batch to PostgreSQL took.");
        _lag = _meter.CreateHistogram<double>("streamgrains.archive.lag", "ms", "When a batch is written: how far its newest event's Kafka timestamp is behind now.");
        _failures = _meter.CreateCounter<long>("streamgrains.archive.failures", "{batch}", "Batch writes that failed (they are written again).");
        _rejected = _meter.CreateCounter<long>("streamgrains.archive.rejected", "{row}", "Events PostgreSQL refused for their data (tagged with the SQLSTATE), skipped by the archive and logged with their offsets.");
        _meter.CreateObservableGauge("streamgrains.archive.pending", pending, "{row}", "Events read but not yet in the archive.");
    }

    internal void Written(int rows, double durationMs, double lagMs)
    {
        _rows.Add(rows);
        _batchDuration.Record(durationMs);
        _lag.Record(Math.Max(0, lagMs));
    }

    internal void Failed() => _failures.Add(1);

    internal void Rejected(string sqlState) => _rejected.Add(1, new KeyValuePair<string, object?>("sqlstate", sqlState));
}
