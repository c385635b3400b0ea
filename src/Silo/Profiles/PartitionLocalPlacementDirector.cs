using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;
using StreamGrains.Events;
using StreamGrains.Kafka.Providers;
using StreamGrains.Silo.Kafka;

namespace StreamGrains.Silo.Profiles;

/// <summary>
/// Places a grain keyed by entity (<see cref="StreamGrains.Profiles.PartitionLocalPlacement"/>) on the silo that reads
/// the partition of the events topic its events come from (named by the delivery that activates it, else the entity's
/// murmur2 partition): its owner in the partition directory, else here when this silo reads it; with no known owner
/// (the partition is moving), here.
/// </summary>
internal sealed class PartitionLocalPlacementDirector(KafkaAdapterFactoryRegistry providers, KafkaEnvironment kafka, PartitionOwnerCache owners) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        var local = context.LocalSilo;
        var localFits = Array.IndexOf(compatible, local) >= 0;
        if (providers.Get(StreamNames.Provider) is { } provider)
        {
            // A delivery names the partition its events come from; otherwise the entity's murmur2 partition, where
            // a producer that keys by entity with Kafka's default (Java) partitioner puts them.
            var (topic, partition) = target.RequestContextData?.TryGetValue(KafkaBatchContainer.PartitionKey, out var delivered) == true && delivered is int p
                ? (kafka.InputTopic, p)
                : provider.PartitionOfStream(StreamId.Create(StreamNames.Events, target.GrainIdentity.Key.ToString()));
            // The directory's owner first: during a handover the old reader still reads a while, and placing by it
            // kept moving grains where their partition was read no more (the profiles' IsReadHere asks the same way).
            if (owners.OwnerOf(topic, partition) is { } owner && Array.IndexOf(compatible, owner) >= 0)
            {
                return Task.FromResult(owner);
            }

            if (localFits && provider.IsReading(topic, partition))
            {
                return Task.FromResult(local);
            }
        }

        return Task.FromResult(localFits || compatible.Length == 0 ? local : compatible[Random.Shared.Next(compatible.Length)]);
    }
}
