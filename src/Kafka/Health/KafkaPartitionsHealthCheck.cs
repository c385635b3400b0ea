using Microsoft.Extensions.Diagnostics.HealthChecks;
using StreamGrains.Kafka.Providers;
using StreamGrains.Kafka.Statistics;

namespace StreamGrains.Kafka.Health;

/// <summary>
/// The partitions this silo reads, for every Kafka stream provider: Healthy while it can read them all, Degraded while
/// some are unreadable (their leader broker away for longer than <see cref="KafkaStreamOptions.UnreadableAfter"/>),
/// Unhealthy when every partition it reads is.
/// </summary>
/// <param name="registry">The process's Kafka stream providers.</param>
public sealed class KafkaPartitionsHealthCheck(KafkaAdapterFactoryRegistry registry) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var owned = new List<KafkaPartitionStatus>();
        foreach (var factory in registry.All)
        {
            owned.AddRange(factory.Partitions.Where(p => p.Owner == factory.OwnerName));
        }

        var unreadable = owned.Where(p => p.State == KafkaPartitionHealth.Unreadable).Select(p => $"{p.Topic}[{p.Partition}]").ToList();
        var data = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["partitions"] = owned.Count,
            ["unreadable"] = unreadable,
        };
        var result = unreadable.Count == 0
            ? HealthCheckResult.Healthy($"Reading {owned.Count} partition(s).", data)
            : unreadable.Count < owned.Count
                ? HealthCheckResult.Degraded($"{unreadable.Count} of {owned.Count} partitions cannot be read (leader broker away): {string.Join(", ", unreadable)}.", data: data)
                : HealthCheckResult.Unhealthy($"None of the {owned.Count} partitions this silo reads can be read (leader broker away): {string.Join(", ", unreadable)}.", data: data);
        return Task.FromResult(result);
    }
}
