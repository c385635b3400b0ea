using Orleans.Placement;
using Orleans.Runtime;

namespace StreamGrains.Profiles;

/// <summary>
/// Places a grain keyed by entity on the silo that reads the entity's Kafka partition, so that its events never cross
/// the network and each silo holds the profiles of its own partitions. The host provides the director (it knows the
/// provider's queue ownership); where no silo reads the partition, the grain stays where it was asked for.
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("sg.partition-local")]
public sealed class PartitionLocalPlacement : PlacementStrategy
{
    /// <summary>The one instance.</summary>
    public static PartitionLocalPlacement Instance { get; } = new();
}

/// <summary>Marks a grain class for <see cref="PartitionLocalPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class PartitionLocalPlacementAttribute() : PlacementAttribute(PartitionLocalPlacement.Instance);
