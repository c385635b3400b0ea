using System.Diagnostics;
using Confluent.Kafka;

namespace StreamGrains.Kafka.Tests;

/// <summary>Plain Confluent.Kafka clients, configured as an application outside the platform would configure them.</summary>
internal static class KafkaTestClients
{
    public static IProducer<string, string> Producer(string bootstrapServers) =>
        new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            EnableIdempotence = true,
            Acks = Acks.All,
            Partitioner = Partitioner.Murmur2Random,
            LingerMs = 5,
        }).Build();

    public static IConsumer<string, string> Consumer(string bootstrapServers, string group) =>
        new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = group,
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();

    /// <summary>Reads every partition of a topic from the beginning until <paramref name="expected"/> records arrived.</summary>
    public static Task<List<ConsumeResult<string, string>>> ConsumeAsync(string bootstrapServers, string topic, int partitions, int expected, TimeSpan timeout) =>
        Task.Run(() =>
        {
            using var consumer = Consumer(bootstrapServers, $"reader-{Guid.NewGuid():N}");
            consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
            return Drain(consumer, expected, timeout);
        });

    /// <summary>Consumes until <paramref name="expected"/> records arrived, then lingers briefly to catch any extra ones.</summary>
    public static List<ConsumeResult<string, string>> Drain(IConsumer<string, string> consumer, int expected, TimeSpan timeout)
    {
        var results = new List<ConsumeResult<string, string>>();
        var watch = Stopwatch.StartNew();
        while (results.Count < expected && watch.Elapsed < timeout)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is not null && !result.IsPartitionEOF)
            {
                results.Add(result);
            }
        }

        // Anything beyond the expected count would be a duplicate: give it a moment to show up.
        var linger = Stopwatch.StartNew();
        while (linger.Elapsed < TimeSpan.FromMilliseconds(500))
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (result is not null && !result.IsPartitionEOF)
            {
                results.Add(result);
            }
        }

        return results;
    }
}
