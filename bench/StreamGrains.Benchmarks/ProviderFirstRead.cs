using System.Diagnostics;
using System.Diagnostics.Metrics;
using StreamGrains.Kafka.Statistics;

namespace StreamGrains.Benchmarks;

/// <summary>
/// When the provider's first read of a run returned records (its <c>streamgrains.kafka.records.consumed</c> counter, in
/// this process), before any consumer saw an event: where a backlog run's clock starts, as a raw consumer's starts at
/// its first record.
/// </summary>
internal sealed class ProviderFirstRead : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _timestamp;

    public ProviderFirstRead()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == KafkaStreamMetrics.MeterName && instrument.Name == "streamgrains.kafka.records.consumed")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, _, _, _) => Interlocked.CompareExchange(ref _timestamp, Stopwatch.GetTimestamp(), 0));
        _listener.Start();
    }

    /// <summary>The stopwatch timestamp of the first read, or 0 before it.</summary>
    public long Timestamp => Interlocked.Read(ref _timestamp);

    public void Dispose() => _listener.Dispose();
}
