using Confluent.Kafka;
using StreamGrains.Events;
using StreamGrains.Kafka;
using StreamGrains.Kafka.Embedded;
using StreamGrains.Kafka.Providers;
using StreamGrains.Silo.Configuration;

namespace StreamGrains.Silo.Kafka;

/// <summary>
/// The Kafka the silo talks to: an external cluster named in configuration, or an embedded broker started here with the
/// platform's topics created up front (the embedded broker answers no CreateTopics request).
/// </summary>
internal sealed class KafkaEnvironment : IDisposable
{
    private readonly EmbeddedKafkaCluster? _embedded;
    private readonly KafkaSettings _settings;
    private readonly double _traceSampleRatio;
    private readonly KafkaStreamOptions _clientOptions;

    private KafkaEnvironment(StreamGrainsOptions options, string bootstrapServers, EmbeddedKafkaCluster? embedded)
    {
        _settings = options.Kafka;
        _traceSampleRatio = options.Telemetry.TraceSampleRatio;
        BootstrapServers = bootstrapServers;
        _embedded = embedded;
        _clientOptions = FillStreamOptions(new KafkaStreamOptions());
    }

    public string BootstrapServers { get; }

    public bool IsEmbedded => _embedded is not null;

    public int EmbeddedBrokerCount => _embedded?.BrokerCount ?? 0;

    public string InputTopic => _settings.InputTopic;

    public string DeadLetterTopic => _settings.DeadLetterTopic;

    public string ConsumerGroup => _settings.ConsumerGroup;

    public string DecisionsTopic => _settings.DecisionsTopic;

    /// <summary>The enriched events topic, or null when switched off.</summary>
    public string? EnrichedTopic => string.IsNullOrWhiteSpace(_settings.EnrichedTopic) ? null : _settings.EnrichedTopic;

    /// <summary>The configured partitions of the input topic (the embedded broker's; for another broker, as configured).</summary>
    public int Partitions => _settings.Partitions;

    public string AggregatesTopic => _settings.AggregatesTopic;

    public string SessionsTopic => _settings.SessionsTopic;

    public string LateTopic => _settings.LateTopic;

    /// <summary>The topics the platform reads or writes.</summary>
    public IReadOnlyList<string> Topics => TopicsOf(_settings);

    /// <summary>The platform's topics under <paramref name="settings"/>, in the order the embedded broker creates them.</summary>
    public static List<string> TopicsOf(KafkaSettings settings)
    {
        List<string> topics = [settings.InputTopic, settings.DeadLetterTopic, settings.DecisionsTopic];
        if (!string.IsNullOrWhiteSpace(settings.EnrichedTopic))
        {
            topics.Add(settings.EnrichedTopic);
        }

        topics.AddRange([settings.AggregatesTopic, settings.SessionsTopic, settings.LateTopic]);
        return topics;
    }

    public static KafkaEnvironment Create(StreamGrainsOptions options)
    {
        var settings = options.Kafka;
        if (!settings.IsEmbedded)
        {
            return new KafkaEnvironment(options, settings.BootstrapServers!.Trim(), embedded: null);
        }

        var cluster = EmbeddedKafkaCluster.Start(settings.EmbeddedBrokers);
        try
        {
            foreach (var topic in TopicsOf(settings))
            {
                cluster.CreateTopic(topic, settings.Partitions);
            }

            return new KafkaEnvironment(options, cluster.BootstrapServers, cluster);
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    /// <summary>Fills the Kafka stream provider's options: the input topic is the <c>events</c> stream namespace.</summary>
    public KafkaStreamOptions FillStreamOptions(KafkaStreamOptions streams)
    {
        streams.BootstrapServers = BootstrapServers;
        streams.ConsumerGroup = _settings.ConsumerGroup;
        streams.CommitInterval = _settings.CommitInterval;
        streams.StartFrom = Enum.Parse<AutoOffsetReset>(_settings.StartFrom, ignoreCase: true);
        streams.UnreadableAfter = _settings.UnreadableAfter;
        streams.StatisticsInterval = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(5).Ticks, _settings.UnreadableAfter.Ticks / 3));
        streams.DeadLetterSuffix = _settings.DeadLetterSuffix;
        streams.MaxRecordBytes = _settings.MaxRecordBytes;
        streams.TraceSampleRatio = _traceSampleRatio; // the provider picks; StreamGrainsSampler keeps what it picked
        streams.AddTopic(_settings.InputTopic, partitions: IsEmbedded ? _settings.Partitions : 0, streamNamespace: StreamNames.Events);
        if (IsEmbedded)
        {
            // The embedded broker (librdkafka's mock cluster) answers a fetch only when its wait is over, not when a
            // record arrives: a short wait keeps the first record after a quiet spell quick, at some idle CPU.
            streams.ConsumerProperties["fetch.wait.max.ms"] = "50";
        }

        foreach (var (key, value) in _settings.Properties)
        {
            streams.Properties[key] = value;
        }

        return streams;
    }

    /// <summary>The provider's producer configuration (idempotent, acks=all, the Java client's partitioner), for other producers of the silo.</summary>
    public ProducerConfig ProducerConfig(string clientId) => KafkaClientConfigs.Producer(_clientOptions, clientId);

    /// <summary>A consumer configuration with the platform's properties (no group protocol: the caller assigns partitions).</summary>
    public ConsumerConfig ConsumerConfig(string clientId) => KafkaClientConfigs.Consumer(_clientOptions, clientId);

    /// <summary>An admin client configuration with the platform's properties.</summary>
    public AdminClientConfig AdminConfig(string clientId) => KafkaClientConfigs.Admin(_clientOptions, clientId);

    /// <summary>The provider's options, for components that talk to Kafka beside it (health check).</summary>
    public KafkaStreamOptions StreamOptions => _clientOptions;

    public void Dispose() => _embedded?.Dispose();
}
