using Confluent.Kafka;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StreamGrains.Silo.Kafka;

namespace StreamGrains.Silo.Health;

/// <summary>Ready while Kafka answers a metadata request for the platform's topics within two seconds.</summary>
internal sealed class KafkaReadiness(KafkaEnvironment kafka, KafkaMetadataReader metadata) : IHealthCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var topics = await metadata.DescribeTopicsAsync(Timeout, cancellationToken).ConfigureAwait(false);
            var broken = topics.FirstOrDefault(t => t.Error.IsError || t.Partitions.Count == 0);
            return broken is null
                ? HealthCheckResult.Healthy($"Kafka at {kafka.BootstrapServers} answers for {string.Join(", ", topics.Select(t => $"{t.Topic} ({t.Partitions.Count} partitions)"))}.")
                : HealthCheckResult.Unhealthy($"Kafka topic '{broken.Topic}' is not available: {broken.Error.Reason}.");
        }
        catch (KafkaException ex)
        {
            return HealthCheckResult.Unhealthy($"Kafka at {kafka.BootstrapServers} does not answer: {ex.Error.Reason}");
        }
    }
}
