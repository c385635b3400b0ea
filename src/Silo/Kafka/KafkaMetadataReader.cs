using Confluent.Kafka;

namespace StreamGrains.Silo.Kafka;

/// <summary>Reads cluster and topic metadata through one shared admin client.</summary>
internal sealed class KafkaMetadataReader(KafkaEnvironment kafka, ILogger<KafkaMetadataReader> logger) : IDisposable
{
    private readonly IAdminClient _admin = new AdminClientBuilder(kafka.AdminConfig("streamgrains-metadata"))
        .SetLogHandler((_, message) => logger.LogDebug("librdkafka {Level}: {Message}", message.Level, message.Message))
        .Build();

    /// <summary>The metadata of the platform's topics; throws <see cref="KafkaException"/> when Kafka does not answer in time.</summary>
    public Task<IReadOnlyList<TopicMetadata>> DescribeTopicsAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        Task.Run<IReadOnlyList<TopicMetadata>>(
            () => kafka.Topics.Select(topic => _admin.GetMetadata(topic, timeout).Topics.Single(t => t.Topic == topic)).ToList(),
            cancellationToken);

    public void Dispose() => _admin.Dispose();
}
