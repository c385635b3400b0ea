using Orleans.Runtime;
using StreamGrains.Silo.Kafka;

namespace StreamGrains.Silo.Profiles;

/// <summary>
/// Which silo reads each partition, as the cluster's partition directory last said (refreshed every second and
/// whenever this silo takes or lets go of a partition), for placement decisions that must not wait for a grain call.
/// </summary>
internal sealed partial class PartitionOwnerCache(PartitionOwnership ownership, ILogger<PartitionOwnerCache> logger) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);
    private volatile Dictionary<(string Topic, int Partition), SiloAddress> _owners = [];

    /// <summary>The silo reading <paramref name="partition"/> of <paramref name="topic"/>, if known.</summary>
    public SiloAddress? OwnerOf(string topic, int partition) => _owners.GetValueOrDefault((topic, partition));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period);
        do
        {
            try
            {
                var owners = new Dictionary<(string, int), SiloAddress>();
                foreach (var (topic, partition, status) in await ownership.CurrentAsync().ConfigureAwait(false))
                {
                    if (status?.Owner is { } owner)
                    {
                        owners[(topic, partition)] = SiloAddress.FromParsableString(owner);
                    }
                }

                _owners = owners;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogRefreshFailed(logger, ex); // e.g. while the silo starts or the directory moves; the last answer stays
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "The partition owners could not be read; placing with the last known")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
