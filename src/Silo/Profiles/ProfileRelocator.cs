using Orleans.Runtime;
using StreamGrains.Kafka.Providers;
using StreamGrains.Profiles;
using StreamGrains.Silo.Kafka;

namespace StreamGrains.Silo.Profiles;

/// <summary>
/// Every two seconds, moves the profiles active here whose partition another silo reads now, as the partition
/// directory says, to that silo. A profile's own events move it the moment they come from another silo's reader; this
/// moves the quiet ones, which no event carries (the placement test caught half the profiles left on the old silo when
/// their partitions moved after their last events). A controller rather than a trigger: it looks at where things are,
/// not at what changed, so a handover it saw half of, or a move that failed, is caught at a later sweep.
/// </summary>
/// <remarks>
/// <para>
/// It starts the migration on the activation itself (<see cref="IGrainContext.Migrate"/>, with the partition in the
/// request context, as a delivery names it): no grain call, so a quiet profile is not kept alive by being asked, and
/// one collected meanwhile is not brought back. It moves a profile only where the placement director would put it: an
/// owner that is active and hosts profiles. A migration placed back here would only deactivate the profile.
/// </para>
/// <para>
/// It waits until the directory has named the same owner on two sweeps in a row (a rebalance passing through moves
/// nothing), moves at most <see cref="MaxMovesPerSweep"/> profiles a sweep (the rest follow at the next sweeps, or with
/// their events), and stops sweeping when the silo stops (its grains deactivate as the silo shuts down, and must not
/// migrate with decisions the producer has not delivered).
/// </para>
/// </remarks>
internal sealed partial class ProfileRelocator(
    PartitionResidents<IGrainContext> residents,
    PartitionOwnerCache owners,
    KafkaEnvironment kafka,
    ILocalSiloDetails silo,
    IClusterMembershipService membership,
    IClusterManifestProvider manifests,
    IHostApplicationLifetime lifetime,
    ILogger<ProfileRelocator> logger) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(2);

    /// <summary>Migrations started per sweep at most: each writes a profile's state and activates it on the other silo.</summary>
    internal const int MaxMovesPerSweep = 5_000;

    private Dictionary<int, SiloAddress> _previousOwners = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lifetime.ApplicationStopping);
        using var timer = new PeriodicTimer(Period);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    Sweep(stopping.Token);
                }
                catch (Exception ex)
                {
                    LogSweepFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // stopping
        }
    }

    private void Sweep(CancellationToken stopping)
    {
        var members = membership.CurrentSnapshot;
        var owned = new Dictionary<int, SiloAddress>();
        if (members.GetSiloStatus(silo.SiloAddress) != SiloStatus.Active)
        {
            _previousOwners = owned; // starting or stopping: nothing moves
            return;
        }

        var budget = MaxMovesPerSweep;
        foreach (var partition in residents.Partitions)
        {
            if (stopping.IsCancellationRequested)
            {
                return;
            }

            if (owners.OwnerOf(kafka.InputTopic, partition) is not { } owner ||
                owner.Equals(silo.SiloAddress) ||
                members.GetSiloStatus(owner) != SiloStatus.Active)
            {
                continue; // read here, or by nobody known (moving), or by a silo not (or no longer) active
            }

            owned[partition] = owner;
            if (budget == 0 || !_previousOwners.TryGetValue(partition, out var before) || !before.Equals(owner))
            {
                continue; // the same owner at the next sweep first
            }

            var hosted = manifests.Current.Silos.TryGetValue(owner, out var manifest) ? manifest.Grains : null;
            var moved = 0;
            foreach (var grain in residents.In(partition))
            {
                if (budget == 0)
                {
                    break;
                }

                if (hosted?.ContainsKey(grain.GrainId.Type) != true)
                {
                    continue; // the owner hosts no such grain: the director keeps it here
                }

                // Not the sweep's token: a migration begun finishes (Orleans bounds it by its deactivation timeout).
                grain.Migrate(new Dictionary<string, object> { [KafkaBatchContainer.PartitionKey] = partition }, CancellationToken.None);
                budget--;
                moved++;
            }

            if (moved > 0)
            {
                LogMoving(logger, moved, partition, owner);
            }
        }

        _previousOwners = owned;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Moving {Count} profiles of partition {Partition} to {Owner}, which reads it now")]
    private static partial void LogMoving(ILogger logger, int count, int partition, SiloAddress owner);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A sweep for profiles whose partition moved failed; trying again in two seconds")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
