using Orleans.Core.Internal;
using Orleans.Runtime;
using StreamGrains.Kafka.Providers;
using StreamGrains.Profiles;
using StreamGrains.Silo.Kafka;

namespace StreamGrains.Silo.Profiles;

/// <summary>
/// Every two seconds, asks each profile active here whose partition another (active) silo reads now, as the partition
/// directory says, to move there. A profile's own events move it the moment they come from another silo's reader; this
/// moves the quiet ones, which no event carries (the placement test caught half the profiles left on the old silo when
/// their partitions moved after their last events). A controller rather than a trigger: it looks at where things are,
/// not at what changed, so a handover it saw half of, or a move that failed, is caught at the next sweep.
/// </summary>
/// <remarks>
/// The request names the partition (as a delivery does), and Orleans' migration asks the placement director first and
/// moves the profile only if the director picks another silo: a profile the director would keep here stays, active.
/// </remarks>
internal sealed partial class ProfileRelocator(
    ProfileResidents residents,
    PartitionOwnerCache owners,
    KafkaEnvironment kafka,
    ILocalSiloDetails silo,
    IClusterMembershipService membership,
    IGrainFactory grains,
    ILogger<ProfileRelocator> logger) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(2);

    /// <summary>Move requests in flight at once (each is a grain call that returns once the move has begun).</summary>
    private const int Concurrency = 32;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await SweepAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogSweepFailed(logger, ex);
            }
        }
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        var members = membership.CurrentSnapshot;
        foreach (var partition in residents.Partitions)
        {
            if (owners.OwnerOf(kafka.InputTopic, partition) is not { } owner ||
                owner.Equals(silo.SiloAddress) ||
                members.GetSiloStatus(owner) != SiloStatus.Active)
            {
                continue; // read here, or by nobody known (moving), or by a silo not (or no longer) active
            }

            var entities = residents.In(partition);
            if (entities.Count == 0)
            {
                continue;
            }

            LogMoving(logger, entities.Count, partition, owner);
            await Parallel.ForEachAsync(
                entities,
                new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = cancellationToken },
                async (entity, token) =>
                {
                    // Each body runs in its own flow: the request context set here goes with this call only.
                    RequestContext.Set(KafkaBatchContainer.PartitionKey, partition);
                    try
                    {
                        await grains.GetGrain<IProfileGrain>(entity).Cast<IGrainManagementExtension>().MigrateOnIdle(token).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        LogMoveFailed(logger, entity, partition, ex); // the next sweep asks again
                    }
                    finally
                    {
                        RequestContext.Remove(KafkaBatchContainer.PartitionKey);
                    }
                }).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Asking {Count} profiles of partition {Partition} to move to {Owner}, which reads it now")]
    private static partial void LogMoving(ILogger logger, int count, int partition, SiloAddress owner);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Profile {Entity} could not be asked to move to the reader of partition {Partition}; asking again at the next sweep")]
    private static partial void LogMoveFailed(ILogger logger, string entity, int partition, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A sweep for profiles whose partition moved failed; trying again in two seconds")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
