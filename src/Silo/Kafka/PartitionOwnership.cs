using StreamGrains.Events;
using StreamGrains.Kafka.Providers;
using StreamGrains.Kafka.Statistics;

namespace StreamGrains.Silo.Kafka;

/// <summary>
/// Who reads each partition of the platform's input: the cluster's partition directory, with this silo's own
/// partitions taken from its provider directly (they are never older than the last report).
/// </summary>
internal sealed class PartitionOwnership(IGrainFactory grains, KafkaAdapterFactoryRegistry providers)
{
    /// <summary>Every partition of the platform's provider, with its status where a live silo reads it (null where none does).</summary>
    /// <param name="localWhenDirectoryFails">When the cluster's directory cannot answer (its silo just died), answer with
    /// this silo's own partitions only, the others unknown, instead of throwing (for reports; deciders want the error).</param>
    public async Task<IReadOnlyList<(string Topic, int Partition, KafkaPartitionStatus? Status)>> CurrentAsync(bool localWhenDirectoryFails = false)
    {
        if (providers.Get(StreamNames.Provider) is not { } provider)
        {
            return [];
        }

        Dictionary<(string Topic, int Partition), KafkaPartitionStatus> known;
        try
        {
            known = (await grains.GetGrain<IKafkaPartitionDirectoryGrain>(StreamNames.Provider).GetPartitions().ConfigureAwait(false))
                .ToDictionary(p => (p.Topic, p.Partition));
        }
        catch (Exception ex) when (localWhenDirectoryFails && ex is OrleansException or TimeoutException)
        {
            // The directory lived on a silo that just died and has not come back elsewhere yet: answer with what this
            // silo knows (its own partitions; the others unknown for a moment) rather than fail the caller.
            known = [];
        }

        foreach (var local in provider.Partitions)
        {
            if (local.Owner == provider.OwnerName)
            {
                known[(local.Topic, local.Partition)] = local;
            }
            else if (known.TryGetValue((local.Topic, local.Partition), out var reported) && reported.Owner == provider.OwnerName)
            {
                known.Remove((local.Topic, local.Partition)); // this silo let it go since it last reported
            }
        }

        return provider.TopicPartitions
            .OrderBy(t => t.Key, StringComparer.Ordinal)
            .SelectMany(t => Enumerable.Range(0, t.Value).Select(p => (t.Key, p, known.GetValueOrDefault((t.Key, p)))))
            .ToList();
    }
}
