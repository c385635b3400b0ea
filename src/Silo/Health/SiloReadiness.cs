using Microsoft.Extensions.Diagnostics.HealthChecks;
using StreamGrains.Silo.Kafka;

namespace StreamGrains.Silo.Health;

/// <summary>
/// Ready once the silo has joined its cluster and become active, and (once, at start-up) every partition of the
/// platform's input has a reader somewhere in the cluster; unready again while the silo shuts down. Partitions that
/// move later do not make a silo unready: their owners' own health says whether they read them.
/// </summary>
internal sealed class SiloReadiness(PartitionOwnership ownership) : ILifecycleParticipant<ISiloLifecycle>, IHealthCheck
{
    private volatile bool _active;
    private volatile bool _partitionsRead;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(
            nameof(SiloReadiness),
            ServiceLifecycleStage.Active,
            _ =>
            {
                _active = true;
                return Task.CompletedTask;
            },
            _ =>
            {
                _active = false;
                return Task.CompletedTask;
            });

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!_active)
        {
            return HealthCheckResult.Unhealthy("The silo is not active yet, or is stopping.");
        }

        if (!_partitionsRead)
        {
            var unread = (await ownership.CurrentAsync().ConfigureAwait(false)).Where(p => p.Status?.Owner is null).Select(p => $"{p.Topic}[{p.Partition}]").ToList();
            if (unread.Count > 0)
            {
                return HealthCheckResult.Unhealthy($"Starting: no silo reads {string.Join(", ", unread)} yet.");
            }

            _partitionsRead = true;
        }

        return HealthCheckResult.Healthy("The silo is active.");
    }
}
