using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace StreamGrains.Storage.Archive;

/// <summary>Unhealthy while the archive cannot write to PostgreSQL (the events wait, their offsets uncommitted).</summary>
/// <param name="archive">The archive.</param>
public sealed class EventArchiveHealthCheck(EventArchive archive) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(archive);
        var data = new Dictionary<string, object>(StringComparer.Ordinal) { ["pendingRows"] = archive.PendingRows };
        return Task.FromResult(archive.Failing is { } failing
            ? HealthCheckResult.Unhealthy($"The archive has failed to write to PostgreSQL since {failing.Since:O} ({archive.PendingRows} events waiting): {failing.Error}", data: data)
            : HealthCheckResult.Healthy($"Archiving; {archive.PendingRows} events waiting.", data));
    }
}
