using Confluent.Kafka;

namespace StreamGrains.Kafka.Providers;

/// <summary>The librdkafka configurations the provider's clients use, built from its options.</summary>
internal static class KafkaClientConfigs
{
    public static ProducerConfig Producer(KafkaStreamOptions options, string clientId)
    {
        var config = new ProducerConfig(Merge(options.Properties, options.ProducerProperties))
        {
            BootstrapServers = options.BootstrapServers,
            ClientId = clientId,
        };
        // Safety first, whatever the pass-through properties say: no duplicates or reordering on retries, every
        // replica acknowledges, and keys land where the Java client would put them.
        config.EnableIdempotence = true;
        config.Acks = Acks.All;
        config.Partitioner = Partitioner.Murmur2Random;
        config.LingerMs ??= 5;
        return config;
    }

    public static ConsumerConfig Consumer(KafkaStreamOptions options, string clientId)
    {
        var config = new ConsumerConfig(Merge(options.Properties, options.ConsumerProperties))
        {
            BootstrapServers = options.BootstrapServers,
            ClientId = clientId,
            GroupId = options.ConsumerGroup,
        };
        config.EnableAutoCommit = false; // offsets are committed by the checkpointer, only once delivered
        config.EnableAutoOffsetStore = false;
        config.AutoOffsetReset = options.StartFrom;
        config.EnablePartitionEof = false;
        // One consumer reads all of a silo's partitions of a topic: bound what librdkafka prefetches for all of them
        // (with the partitions' buffers and caches, memory stays bounded), and let it keep fetching until that bound
        // rather than stop at its default 100,000 queued records (measured: a single consumer on the embedded broker
        // reads 1.5 million records a second this way, 240,000 with librdkafka's defaults, 140,000 with 8 MiB).
        config.QueuedMaxMessagesKbytes ??= 32 * 1024;
        config.QueuedMinMessages ??= 1_000_000;
        // fetch.wait.max.ms stays librdkafka's (500 ms): a broker answers a fetch as soon as a record arrives, so it
        // costs no latency and keeps idle consumers quiet. (librdkafka's mock cluster answers only when the wait is
        // over: whoever runs on it sets a short wait, as the silo does for its embedded broker.)
        config.StatisticsIntervalMs ??= (int)options.StatisticsInterval.TotalMilliseconds;
        return config;
    }

    public static AdminClientConfig Admin(KafkaStreamOptions options, string clientId) =>
        new(Merge(options.Properties, new Dictionary<string, string>()))
        {
            BootstrapServers = options.BootstrapServers,
            ClientId = clientId,
        };

    private static Dictionary<string, string> Merge(IDictionary<string, string> shared, IDictionary<string, string> specific)
    {
        var merged = new Dictionary<string, string>(shared, StringComparer.Ordinal);
        foreach (var (key, value) in specific)
        {
            merged[key] = value;
        }

        return merged;
    }
}
