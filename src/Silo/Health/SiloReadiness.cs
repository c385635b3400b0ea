using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace StreamGrains.Silo.Health;

/// <summary>Ready once the silo has joined its cluster and become active; unready again while it shuts down.</summary>
internal sealed class SiloReadiness : ILifecycleParticipant<ISiloLifecycle>, IHealthCheck
{
    private volatile bool _active;

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

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_active ? HealthCheckResult.Healthy("The silo is active.") : HealthCheckResult.Unhealthy("The silo is not active yet, or is stopping."));
}
