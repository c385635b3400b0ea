using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Confluent.Kafka;

namespace StreamGrains.Kafka.Statistics;

/// <summary>
/// The provider's instruments on the platform meter <c>StreamGrains</c>: records and bytes consumed, consumer lag,
/// delivery latency, dead-lettered records, offset commits and records produced.
/// </summary>
public sealed class KafkaStreamMetrics : IDisposable
{
    /// <summary>The name of the platform's meter.</summary>
    public const string MeterName = "StreamGrains";

    private readonly Meter _meter;
    private readonly Counter<long> _recordsConsumed;
    private readonly Counter<long> _bytesConsumed;
    private readonly Histogram<double> _deliveryLatency;
    private readonly Counter<long> _deadLettered;
    private readonly Counter<long> _commits;
    private readonly Counter<long> _produced;
    private readonly Counter<long> _deliveryFailures;
    private long _deadLetteredTotal;
    private readonly ConcurrentDictionary<TopicPartition, Func<KafkaPartitionStatus>> _partitions = new();
    private readonly ConcurrentDictionary<TopicPartition, Func<(int Undelivered, int Retained, long Bytes)>> _caches = new();

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    /// <param name="meterFactory">The host's meter factory.</param>
    public KafkaStreamMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(MeterName);
        _recordsConsumed = _meter.CreateCounter<long>("streamgrains.kafka.records.consumed", "{record}", "Records read from Kafka, valid or not.");
        _bytesConsumed = _meter.CreateCounter<long>("streamgrains.kafka.bytes.consumed", "By", "Key and value bytes read from Kafka.");
        _meter.CreateObservableGauge("streamgrains.kafka.consumer.lag", ObserveLag, "{record}", "Records in the partition not yet read: its last known high watermark minus the read position.");
        _meter.CreateObservableGauge("streamgrains.kafka.partition.readable", ObserveReadable, "{partition}", "1 while this silo can read a partition it owns, 0 once it has been unreadable (leader away) for longer than UnreadableAfter.");
        _meter.CreateObservableGauge("streamgrains.kafka.high_watermark.age", ObserveHighWatermarkAge, "s", "How long ago a partition's high watermark was last seen: it grows while the partition's leader is away.");
        _deliveryLatency = _meter.CreateHistogram<double>("streamgrains.kafka.delivery.latency", "ms", "From a record's Kafka timestamp to its delivery to the consuming grain.");
        _deadLettered = _meter.CreateCounter<long>("streamgrains.dlq.records", "{record}", "Records sent to a dead-letter topic.");
        _commits = _meter.CreateCounter<long>("streamgrains.kafka.offset.commits", "{commit}", "Offset commits to the consumer group.");
        _produced = _meter.CreateCounter<long>("streamgrains.kafka.records.produced", "{record}", "Records written to Kafka by publishing to streams.");
        _deliveryFailures = _meter.CreateCounter<long>("streamgrains.kafka.delivery.failures", "{batch}", "Batches a consumer failed to process after the pulling agent's retries (they go to the dead-letter topic).");
        _meter.CreateObservableGauge("streamgrains.kafka.cache.records", ObserveCacheRecords, "{record}", "Records in a partition's cache: state=undelivered (not yet delivered to every consumer) or retained (delivered, kept for rewinds).");
        _meter.CreateObservableGauge("streamgrains.kafka.cache.bytes", ObserveCacheBytes, "By", "Key and value bytes in a partition's cache, delivered or not.");
    }

    internal void Consumed(string topic, int partition, int records, long bytes)
    {
        var tags = new TagList { { "topic", topic }, { "partition", partition } };
        _recordsConsumed.Add(records, tags);
        _bytesConsumed.Add(bytes, tags);
    }

    internal void Delivered(string topic, double latencyMs) => _deliveryLatency.Record(Math.Max(0, latencyMs), new KeyValuePair<string, object?>("topic", topic));

    /// <summary>Records this process sent to dead-letter topics since it started.</summary>
    public long DeadLetteredTotal => Interlocked.Read(ref _deadLetteredTotal);

    internal void DeadLettered(string topic, string reason)
    {
        Interlocked.Increment(ref _deadLetteredTotal);
        _deadLettered.Add(1, new KeyValuePair<string, object?>("topic", topic), new KeyValuePair<string, object?>("reason", reason));
    }

    internal void OffsetCommitted(TopicPartition partition) =>
        _commits.Add(1, new KeyValuePair<string, object?>("topic", partition.Topic), new KeyValuePair<string, object?>("partition", partition.Partition.Value));

    internal void Produced(string topic, int records) => _produced.Add(records, new KeyValuePair<string, object?>("topic", topic));

    internal void DeliveryFailed(string topic) => _deliveryFailures.Add(1, new KeyValuePair<string, object?>("topic", topic));

    /// <summary>Reports a partition's lag and readability while this silo reads it.</summary>
    internal IDisposable TrackPartition(TopicPartition partition, Func<KafkaPartitionStatus> status)
    {
        _partitions[partition] = status;
        return new Untrack(() => _partitions.TryRemove(new KeyValuePair<TopicPartition, Func<KafkaPartitionStatus>>(partition, status)));
    }

    /// <summary>Reports a partition cache's usage while this silo reads the partition.</summary>
    internal IDisposable TrackCache(TopicPartition partition, Func<(int Undelivered, int Retained, long Bytes)> usage)
    {
        _caches[partition] = usage;
        return new Untrack(() => _caches.TryRemove(new KeyValuePair<TopicPartition, Func<(int, int, long)>>(partition, usage)));
    }

    private IEnumerable<Measurement<long>> ObserveCacheRecords()
    {
        foreach (var (partition, usage) in _caches)
        {
            var (undelivered, retained, _) = usage();
            yield return new Measurement<long>(undelivered, new KeyValuePair<string, object?>("topic", partition.Topic), new KeyValuePair<string, object?>("partition", partition.Partition.Value), new KeyValuePair<string, object?>("state", "undelivered"));
            yield return new Measurement<long>(retained, new KeyValuePair<string, object?>("topic", partition.Topic), new KeyValuePair<string, object?>("partition", partition.Partition.Value), new KeyValuePair<string, object?>("state", "retained"));
        }
    }

    private IEnumerable<Measurement<long>> ObserveCacheBytes()
    {
        foreach (var (partition, usage) in _caches)
        {
            yield return new Measurement<long>(usage().Bytes, new KeyValuePair<string, object?>("topic", partition.Topic), new KeyValuePair<string, object?>("partition", partition.Partition.Value));
        }
    }

    private IEnumerable<Measurement<long>> ObserveLag()
    {
        foreach (var (partition, status) in _partitions)
        {
            if (status().Lag is { } value)
            {
                yield return new Measurement<long>(value, Tags(partition));
            }
        }
    }

    private IEnumerable<Measurement<int>> ObserveReadable()
    {
        foreach (var (partition, status) in _partitions)
        {
            if (status().State is { } state)
            {
                yield return new Measurement<int>(state == KafkaPartitionHealth.Unreadable ? 0 : 1, Tags(partition));
            }
        }
    }

    private IEnumerable<Measurement<double>> ObserveHighWatermarkAge()
    {
        foreach (var (partition, status) in _partitions)
        {
            if (status().HighWatermarkAgeMs is { } age)
            {
                yield return new Measurement<double>(age / 1000.0, Tags(partition));
            }
        }
    }

    private static KeyValuePair<string, object?>[] Tags(TopicPartition partition) =>
        [new("topic", partition.Topic), new("partition", partition.Partition.Value)];

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();

    private sealed class Untrack(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
