using System.Collections.Concurrent;
using Confluent.Kafka;
using StreamGrains.Kafka.Checkpointing;

namespace StreamGrains.Integration.Tests.Infrastructure;

/// <summary>
/// A commit gate the failure tests control, one per silo: frozen, it lets no offset of its silo be committed. Frozen at
/// the moment of a kill, an in-process "killed" silo (whose receivers Orleans may never shut down) cannot commit
/// afterwards, as a crashed process could not; a new owner of its partitions reads them from where the group was.
/// </summary>
internal sealed class TestCommitGate(ILocalSiloDetails silo) : IKafkaCommitGate
{
    private static readonly ConcurrentDictionary<string, bool> FrozenSilos = new(StringComparer.Ordinal);
    private static volatile bool _allFrozen;

    /// <summary>No silo commits from now on.</summary>
    public static void FreezeAll() => _allFrozen = true;

    /// <summary>Silos commit again, except <paramref name="silos"/> (killed ones), which stay frozen for good.</summary>
    public static void ThawAllBut(params SiloAddress[] silos)
    {
        foreach (var address in silos)
        {
            FrozenSilos[address.ToParsableString()] = true;
        }

        _allFrozen = false;
    }

    /// <summary>Forgets every freeze (a new test).</summary>
    public static void Reset()
    {
        FrozenSilos.Clear();
        _allFrozen = false;
    }

    public ValueTask<long> GetCommittableOffsetAsync(TopicPartition partition, long deliveredOffset, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_allFrozen || FrozenSilos.ContainsKey(silo.SiloAddress.ToParsableString()) ? -1 : deliveredOffset);
}
