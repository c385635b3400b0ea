using System.Collections.Concurrent;

namespace StreamGrains.Profiles;

/// <summary>
/// What is active on this silo, by the partition of the events topic its events come from (for profiles, their grain
/// activations): what the silo must move when another silo takes one of its partitions, including what has gone quiet
/// (no event comes to carry it). Residents are told apart by reference. Thread-safe; one per silo.
/// </summary>
/// <typeparam name="TResident">What is kept (the profiles' activations).</typeparam>
public sealed class PartitionResidents<TResident>
    where TResident : class
{
    private readonly ConcurrentDictionary<int, ConcurrentDictionary<TResident, byte>> _byPartition = new();

    /// <summary>Records that <paramref name="resident"/> takes its events from <paramref name="partition"/>.</summary>
    /// <param name="partition">The partition.</param>
    /// <param name="resident">The resident.</param>
    public void Enter(int partition, TResident resident) =>
        _byPartition.GetOrAdd(partition, _ => new ConcurrentDictionary<TResident, byte>(ReferenceEqualityComparer.Instance))[resident] = 0;

    /// <summary>Records that <paramref name="resident"/> no longer counts under <paramref name="partition"/> (it ended, or its events come from another partition).</summary>
    /// <param name="partition">The partition it was entered under.</param>
    /// <param name="resident">The resident.</param>
    public void Leave(int partition, TResident resident)
    {
        if (_byPartition.TryGetValue(partition, out var residents))
        {
            residents.TryRemove(resident, out _);
        }
    }

    /// <summary>The partitions with residents.</summary>
    public IReadOnlyList<int> Partitions => [.. _byPartition.Where(p => !p.Value.IsEmpty).Select(p => p.Key)];

    /// <summary>The residents of <paramref name="partition"/>, as enumerated now (without locking out those entering or leaving).</summary>
    /// <param name="partition">The partition.</param>
    public IReadOnlyList<TResident> In(int partition) =>
        _byPartition.TryGetValue(partition, out var residents) ? [.. residents.Select(r => r.Key)] : [];
}
