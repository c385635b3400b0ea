using Confluent.Kafka;
using StreamGrains.Events;
using StreamGrains.Silo.Kafka;

namespace StreamGrains.Silo.Api;

/// <summary>
/// Publishes events that came in over HTTP to the input topic, keyed by entity, through one idempotent producer
/// (acks=all, the Java client's partitioner): a request is answered once Kafka has acknowledged every event of it.
/// A record Kafka has not taken within <c>message.timeout.ms</c> (30 s unless <c>StreamGrains:Kafka:Properties</c> sets
/// it) fails the request (503): the client sends it again, and events that did go in are then there twice (at least once).
/// </summary>
internal sealed partial class EventPublisher : IDisposable
{
    private readonly IProducer<string, byte[]> _producer;
    private readonly string _topic;
    private int _disposed;

    public EventPublisher(KafkaEnvironment kafka, ILogger<EventPublisher> logger)
    {
        var config = kafka.ProducerConfig("streamgrains-api");
        if (config.MessageTimeoutMs is null && !config.Any(setting => setting.Key == "delivery.timeout.ms"))
        {
            config.MessageTimeoutMs = 30_000;
        }

        config.LingerMs = 1;
        _producer = new ProducerBuilder<string, byte[]>(config)
            .SetLogHandler((_, message) => LogKafka(logger, message.Level.ToString(), message.Message))
            .Build();
        _topic = kafka.InputTopic;
    }

    /// <summary>Publishes the events and returns once Kafka acknowledged them all.</summary>
    /// <exception cref="ProduceException{TKey, TValue}">Kafka did not take one of them.</exception>
    public async Task PublishAsync(IReadOnlyList<StreamEvent> events, CancellationToken cancellationToken)
    {
        var deliveries = new Task[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            deliveries[i] = _producer.ProduceAsync(_topic, new Message<string, byte[]> { Key = events[i].Entity, Value = StreamEventJson.Serialize(events[i]) }, cancellationToken);
        }

        await Task.WhenAll(deliveries).ConfigureAwait(false);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _producer.Flush(TimeSpan.FromSeconds(5));
        _producer.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Kafka producer {Level}: {Message}")]
    private static partial void LogKafka(ILogger logger, string level, string message);
}
