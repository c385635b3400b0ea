using System.Collections.Concurrent;

namespace StreamGrains.Profiles;

/// <summary>
/// Which profiles of this silo hold events their stored state does not cover yet, per partition, from which offset:
/// the provider may commit a partition's offset only up to the lowest such offset, so that after a crash Kafka
/// re-delivers everything the stored profiles miss (and they skip, by offset, what they already have). Kafka Streams'
/// changelog-and-checkpoint idea, with grain storage as the changelog. Thread-safe; one per silo.
/// </summary>
public sealed class ProfileCheckpoints
{
    private readonly ConcurrentDictionary<int, ConcurrentDictionary<string, long>> _dirty = new();

    /// <summary>Records that <paramref name="entity"/> took, from <paramref name="offset"/> of <paramref name="partition"/> on, events its stored state lacks.</summary>
    /// <param name="partition">The partition.</param>
    /// <param name="entity">The entity.</param>
    /// <param name="offset">The first such event's offset.</param>
    public void Dirty(int partition, string entity, long offset) =>
        _dirty.GetOrAdd(partition, _ => new ConcurrentDictionary<string, long>(StringComparer.Ordinal)).AddOrUpdate(entity, offset, (_, known) => Math.Min(known, offset));

    /// <summary>Records that the stored state of <paramref name="entity"/> covers everything it took from <paramref name="partition"/>.</summary>
    /// <param name="partition">The partition.</param>
    /// <param name="entity">The entity.</param>
    public void Durable(int partition, string entity)
    {
        if (_dirty.TryGetValue(partition, out var entities))
        {
            entities.TryRemove(entity, out _);
        }
    }

    /// <summary>Records that the stored state of <paramref name="entity"/> covers <paramref name="partition"/> up to <paramref name="offset"/> and no further, when it holds unstored events of it at all.</summary>
    /// <param name="partition">The partition.</param>
    /// <param name="entity">The entity (or shard).</param>
    /// <param name="offset">The first offset its stored state lacks.</param>
    public void StoredUpTo(int partition, string entity, long offset)
    {
        if (_dirty.TryGetValue(partition, out var entities) && entities.ContainsKey(entity))
        {
            entities[entity] = offset;
        }
    }

    /// <summary>The lowest offset of <paramref name="partition"/> some profile holds but has not stored, or null when all is stored.</summary>
    /// <param name="partition">The partition.</param>
    public long? FirstUnstored(int partition)
    {
        if (!_dirty.TryGetValue(partition, out var entities) || entities.IsEmpty)
        {
            return null;
        }

        long? lowest = null;
        foreach (var offset in entities.Values)
        {
            lowest = lowest is { } l ? Math.Min(l, offset) : offset;
        }

        return lowest;
    }
}
