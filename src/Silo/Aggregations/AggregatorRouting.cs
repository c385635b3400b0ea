using System.Globalization;
using StreamGrains.Aggregations;
using StreamGrains.Events;
using StreamGrains.Kafka.Providers;
using StreamGrains.Silo.Kafka;

namespace StreamGrains.Silo.Aggregations;

/// <summary>
/// Where an aggregation's shards are and how to call them: the shard of a key, every shard of an aggregation, and a
/// call that names the partition the shard's grain is placed by (an entity shard next to its partition's reader, a
/// re-keyed shard spread like the partitions). Used by the read path and by the HTTP API alike.
/// </summary>
internal sealed class AggregatorRouting(IGrainFactory grains, KafkaAdapterFactoryRegistry providers, KafkaEnvironment kafka, AggregationBook book)
{
    /// <summary>How many partitions the input topic has (as the provider reads it; else as configured).</summary>
    public int InputPartitions =>
        providers.Get(StreamNames.Provider)?.TopicPartitions.GetValueOrDefault(kafka.InputTopic) is > 0 and var count ? count : Math.Max(1, kafka.Partitions);

    /// <summary>The shard holding <paramref name="key"/>: grouped by entity, the shard of the key's partition (murmur2, as producers key it).</summary>
    public string ShardOf(AggregationDefinition definition, string key)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var partition = definition.Group == GroupKind.Entity && providers.Get(StreamNames.Provider) is { } provider
            ? provider.PartitionOfStream(StreamId.Create(StreamNames.Events, key)).Partition
            : 0;
        return PartitionPreAggregator.ShardOf(definition, key, partition, book.Shards);
    }

    /// <summary>Every shard of an aggregation: one per partition grouped by entity, else <see cref="AggregationBook.Shards"/>.</summary>
    public IEnumerable<string> ShardsOf(AggregationDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return definition.Group == GroupKind.Entity
            ? Enumerable.Range(0, InputPartitions).Select(p => $"p{p}")
            : Enumerable.Range(0, book.Shards).Select(s => $"s{s}");
    }

    /// <summary>Calls a shard, with the partition that places its grain in the request context.</summary>
    public async Task<T> CallAsync<T>(string aggregation, string shard, Func<IAggregatorGrain, Task<T>> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        RequestContext.Set(KafkaBatchContainer.PartitionKey, int.Parse(shard.AsSpan(1), CultureInfo.InvariantCulture) % InputPartitions);
        try
        {
            return await call(grains.GetGrain<IAggregatorGrain>($"{aggregation}/{shard}")).ConfigureAwait(false);
        }
        finally
        {
            RequestContext.Remove(KafkaBatchContainer.PartitionKey);
        }
    }
}
