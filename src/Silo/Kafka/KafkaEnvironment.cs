using Confluent.Kafka;
using StreamGrains.Kafka.Embedded;
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

    private KafkaEnvironment(KafkaSettings settings, string bootstrapServers, EmbeddedKafkaCluster? embedded)
    {
        _settings = settings;
        BootstrapServers = bootstrapServers;
        _embedded = embedded;
    }

    public string BootstrapServers { get; }

    public bool IsEmbedded => _embedded is not null;

    public int EmbeddedBrokerCount => _embedded?.BrokerCount ?? 0;

    /// <summary>The embedded cluster, for fault injection in tests and demos; null with an external Kafka.</summary>
    public EmbeddedKafkaCluster? Embedded => _embedded;

    public string InputTopic => _settings.InputTopic;

    public string DeadLetterTopic => _settings.DeadLetterTopic;

    public string ConsumerGroup => _settings.ConsumerGroup;

    /// <summary>The topics the platform reads or writes.</summary>
    public IReadOnlyList<string> Topics => [_settings.InputTopic, _settings.DeadLetterTopic];

    public static KafkaEnvironment Create(KafkaSettings settings)
    {
        if (!settings.IsEmbedded)
        {
            return new KafkaEnvironment(settings, settings.BootstrapServers!.Trim(), embedded: null);
        }

        var cluster = EmbeddedKafkaCluster.Start(settings.EmbeddedBrokers);
        try
        {
            cluster.CreateTopic(settings.InputTopic, settings.Partitions);
            cluster.CreateTopic(settings.DeadLetterTopic, settings.Partitions);
            return new KafkaEnvironment(settings, cluster.BootstrapServers, cluster);
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    /// <summary>A producer configuration: idempotent (acks=all), and the Java client's murmur2 partitioner.</summary>
    public ProducerConfig ProducerConfig(string clientId) => new(BaseConfig(clientId))
    {
        EnableIdempotence = true,
        Acks = Acks.All,
        Partitioner = Partitioner.Murmur2Random,
        LingerMs = 5,
    };

    /// <summary>An admin client configuration.</summary>
    public AdminClientConfig AdminConfig(string clientId) => new(BaseConfig(clientId));

    private ClientConfig BaseConfig(string clientId)
    {
        var config = new ClientConfig(new Dictionary<string, string>(_settings.Properties, StringComparer.Ordinal))
        {
            BootstrapServers = BootstrapServers,
            ClientId = clientId,
        };
        return config;
    }

    public void Dispose() => _embedded?.Dispose();
}
