using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StreamGrains.Kafka.Providers;

namespace StreamGrains.Kafka.Health;

/// <summary>
/// Healthy while Kafka answers a metadata request for the provider's topics within the timeout: a silo that cannot
/// reach Kafka reports unready, so a load balancer sends nothing its way.
/// </summary>
public sealed class KafkaStreamHealthCheck : IHealthCheck, IDisposable
{
    private readonly IAdminClient _admin;
    private readonly IReadOnlyList<string> _topics;
    private readonly string _bootstrapServers;
    private readonly TimeSpan _timeout;

    /// <summary>Creates the check.</summary>
    /// <param name="options">The provider's options.</param>
    /// <param name="timeout">How long Kafka may take to answer.</param>
    /// <param name="logger">Where librdkafka's own messages go (at debug level); null drops them.</param>
    public KafkaStreamHealthCheck(KafkaStreamOptions options, TimeSpan timeout, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _admin = new AdminClientBuilder(KafkaClientConfigs.Admin(options, "streamgrains-health"))
            .SetLogHandler((_, message) => logger?.LogDebug("librdkafka {Level}: {Message}", message.Level, message.Message))
            .Build();
        _topics = options.Topics.Select(t => t.Name).ToList();
        _bootstrapServers = options.BootstrapServers;
        _timeout = timeout;
    }

    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.Run(
            () =>
            {
                try
                {
                    var described = new List<string>();
                    foreach (var topic in _topics)
                    {
                        var metadata = _admin.GetMetadata(topic, _timeout).Topics.SingleOrDefault(t => t.Topic == topic);
                        if (metadata is null || metadata.Error.IsError || metadata.Partitions.Count == 0)
                        {
                            return HealthCheckResult.Unhealthy($"Kafka topic '{topic}' is not available: {metadata?.Error.Reason ?? "no metadata"}.");
                        }

                        if (metadata.Partitions.Any(p => p.Leader < 0))
                        {
                            return HealthCheckResult.Unhealthy($"Kafka topic '{topic}' has partitions without a leader.");
                        }

                        described.Add($"{topic} ({metadata.Partitions.Count} partitions)");
                    }

                    return HealthCheckResult.Healthy($"Kafka at {_bootstrapServers} answers for {string.Join(", ", described)}.");
                }
                catch (KafkaException ex)
                {
                    return HealthCheckResult.Unhealthy($"Kafka at {_bootstrapServers} does not answer: {ex.Error.Reason}");
                }
            },
            cancellationToken);

    /// <inheritdoc />
    public void Dispose() => _admin.Dispose();
}
