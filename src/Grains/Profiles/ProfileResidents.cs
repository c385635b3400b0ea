using System.Collections.Concurrent;

namespace StreamGrains.Profiles;

/// <summary>
/// Which profiles are active on this silo, by the partition of the events topic their events come from: what a silo
/// must move when another silo takes one of its partitions, including profiles that have gone quiet (no event comes
/// to carry them). Thread-safe; one per silo.
/// </summary>
public sealed class ProfileResidents
{
    private readonly ConcurrentDictionary<int, ConcurrentDictionary<string, byte>> _byPartition = new();

    /// <summary>Records that the profile of <paramref name="entity"/>, active here, takes its events from <paramref name="partition"/>.</summary>
    /// <param name="partition">The partition.</param>
    /// <param name="entity">The entity.</param>
    public void Enter(int partition, string entity) =>
        _byPartition.GetOrAdd(partition, _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal))[entity] = 0;

    /// <summary>Records that the profile of <paramref name="entity"/> no longer counts under <paramref name="partition"/> here (it deactivated, or its events come from another partition).</summary>
    /// <param name="partition">The partition it was entered under.</param>
    /// <param name="entity">The entity.</param>
    public void Leave(int partition, string entity)
    {
        if (_byPartition.TryGetValue(partition, out var entities))
        {
            entities.TryRemove(entity, out _);
        }
    }

    /// <summary>The partitions with profiles active here.</summary>
    public IReadOnlyList<int> Partitions => [.. _byPartition.Where(p => !p.Value.IsEmpty).Select(p => p.Key)];

    /// <summary>The entities whose profiles are active here and take their events from <paramref name="partition"/>, as of now.</summary>
    /// <param name="partition">The partition.</param>
    public IReadOnlyList<string> In(int partition) =>
        _byPartition.TryGetValue(partition, out var entities) ? [.. entities.Keys] : [];
}
