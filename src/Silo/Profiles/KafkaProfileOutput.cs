using System.Buffers;
using System.Text.Json;
using Confluent.Kafka;
using StreamGrains.Decisions;
using StreamGrains.Events;
using StreamGrains.Outputs;
using StreamGrains.Profiles;
using StreamGrains.Silo.Decisions;
using StreamGrains.Silo.Kafka;

namespace StreamGrains.Silo.Profiles;

/// <summary>
/// Publishes what profiles decide: decision records to <c>Kafka:DecisionsTopic</c> and enriched events to
/// <c>Kafka:EnrichedTopic</c>, keyed by entity, through one idempotent producer (acks=all, the Java client's
/// partitioner) with a 1 ms linger, so that a decision is on its way within a millisecond or two. A decision about a
/// replayed record that the <see cref="DecisionLedger"/> finds published already is not published again.
/// </summary>
/// <remarks>
/// An enriched event is the event's contract JSON with two more members: <c>"profile"</c> (<c>count</c>, <c>mean</c>,
/// <c>stddev</c>, <c>anomalyScore</c>, <c>flags</c>) and, when an <c>Enrich</c> rule fired, <c>"enrichments"</c>
/// (the details of each such rule, by rule name).
/// </remarks>
internal sealed partial class KafkaProfileOutput : IProfileOutput, IDisposable
{
    private readonly IProducer<string, byte[]> _producer;
    private readonly DecisionLedger _ledger;
    private readonly string _decisionsTopic;
    private readonly string? _enrichedTopic;
    private readonly ILogger<KafkaProfileOutput> _logger;
    private readonly Action<DeliveryReport<string, byte[]>> _onDelivery;
    private long _failed;
    private int _disposed;

    public KafkaProfileOutput(KafkaEnvironment kafka, DecisionLedger ledger, ILogger<KafkaProfileOutput> logger)
    {
        _ledger = ledger;
        var config = KafkaOutputs.ProducerConfig(kafka, "streamgrains-decisions");
        config.LingerMs = 1;
        _producer = new ProducerBuilder<string, byte[]>(config)
            .SetLogHandler((_, message) => LogKafka(logger, message.Level.ToString(), message.Message))
            .Build();
        _decisionsTopic = kafka.DecisionsTopic;
        _enrichedTopic = kafka.EnrichedTopic;
        _logger = logger;
        _onDelivery = report =>
        {
            if (report.Error.IsError && Interlocked.Increment(ref _failed) is var failed && (failed & (failed - 1)) == 0)
            {
                LogDeliveryFailed(_logger, report.Topic, failed, report.Error.Reason); // the 1st, 2nd, 4th, 8th... failure
            }
        };
    }

    public bool EnrichedEnabled => _enrichedTopic is not null;

    public bool Decided(Decision decision, int partition, long offset, UnacknowledgedOutputs unacknowledged)
    {
        if (offset >= 0 && _ledger.WasPublished(partition, offset, decision.Rule))
        {
            return false;
        }

        Produce(_decisionsTopic, decision.Entity, DecisionJson.Serialize(decision), offset >= 0 ? DecisionHeaders.Of(partition, offset) : null, unacknowledged);
        return true;
    }

    public void Passed(StreamEvent evt, ProfileSummary summary, IReadOnlyDictionary<string, IReadOnlyDictionary<string, AttributeValue>>? enrichments, UnacknowledgedOutputs unacknowledged)
    {
        if (_enrichedTopic is null)
        {
            return;
        }

        Produce(_enrichedTopic, evt.Entity, EnrichedJson(evt, summary, enrichments), headers: null, unacknowledged);
    }

    /// <summary>The value of an enriched event.</summary>
    internal static byte[] EnrichedJson(StreamEvent evt, ProfileSummary summary, IReadOnlyDictionary<string, IReadOnlyDictionary<string, AttributeValue>>? enrichments)
    {
        var output = new ArrayBufferWriter<byte>(384);
        using (var writer = new Utf8JsonWriter(output))
        {
            writer.WriteStartObject();
            StreamEventJson.WriteMembers(writer, evt);

            writer.WritePropertyName("profile"u8);
            writer.WriteStartObject();
            writer.WriteNumber("count"u8, summary.Count);
            writer.WriteNumber("mean"u8, summary.Mean);
            writer.WriteNumber("stddev"u8, summary.StdDev);
            writer.WriteNumber("anomalyScore"u8, summary.AnomalyScore);
            writer.WriteStartArray("flags"u8);
            foreach (var flag in summary.Flags)
            {
                writer.WriteStringValue(flag);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            if (enrichments is { Count: > 0 })
            {
                writer.WritePropertyName("enrichments"u8);
                writer.WriteStartObject();
                foreach (var (rule, details) in enrichments)
                {
                    writer.WritePropertyName(rule);
                    StreamEventJson.WriteAttributes(writer, details);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        return output.WrittenSpan.ToArray();
    }

    public void Dispose()
    {
        // Once: the container disposes it both as itself and as the interface it is also registered under (a second
        // Flush on the destroyed handle threw and aborted the silo's graceful stop).
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _producer.Flush(TimeSpan.FromSeconds(5));
        _producer.Dispose();
    }

    private void Produce(string topic, string key, byte[] value, Headers? headers, UnacknowledgedOutputs unacknowledged)
    {
        KafkaOutputs.Produce(_producer, topic, new Message<string, byte[]> { Key = key, Value = value, Headers = headers }, _onDelivery, unacknowledged);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka did not take a record for '{Topic}' ({Failed} so far): {Reason}")]
    private static partial void LogDeliveryFailed(ILogger logger, string topic, long failed, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Kafka producer {Level}: {Message}")]
    private static partial void LogKafka(ILogger logger, string level, string message);
}
