using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;
using StreamGrains.Events;
using StreamGrains.Kafka.Providers;

namespace StreamGrains.Silo.Profiles;

/// <summary>
/// Places a grain keyed by entity (<see cref="StreamGrains.Profiles.PartitionLocalPlacement"/>) on the silo that reads
/// the entity's partition of the events topic: here when this silo reads it, else its owner in the partition directory;
/// with no known owner (the partition is moving), here.
/// </summary>
internal sealed class PartitionLocalPlacementDirector(KafkaAdapterFactoryRegistry providers, PartitionOwnerCache owners) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        var local = context.LocalSilo;
        var localFits = Array.IndexOf(compatible, local) >= 0;
        if (providers.Get(StreamNames.Provider) is { } provider)
        {
            var stream = StreamId.Create(StreamNames.Events, target.GrainIdentity.Key.ToString());
            if (localFits && provider.IsReadingStream(stream))
            {
                return Task.FromResult(local);
            }

            var (topic, partition) = provider.PartitionOfStream(stream);
            if (owners.OwnerOf(topic, partition) is { } owner && Array.IndexOf(compatible, owner) >= 0)
            {
                return Task.FromResult(owner);
            }
        }

        return Task.FromResult(localFits || compatible.Length == 0 ? local : compatible[Random.Shared.Next(compatible.Length)]);
    }
}
