using System.Text;
using Confluent.Kafka;
using StreamGrains.Events;

namespace StreamGrains.Silo.Tests.Infrastructure;

/// <summary>Produces contract events to a broker as a well-behaved producer does (keyed by entity, Kafka's Java partitioner) and reads topics back.</summary>
internal static class KafkaIo
{
    public static async Task ProduceAsync(string bootstrap, IEnumerable<StreamEvent> events, string topic = "events")
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            Partitioner = Partitioner.Murmur2Random,
            EnableIdempotence = true,
            LingerMs = 2,
        }).Build();
        var deliveries = new List<Task<DeliveryResult<string, byte[]>>>();
        foreach (var evt in events)
        {
            deliveries.Add(producer.ProduceAsync(topic, new Message<string, byte[]> { Key = evt.Entity, Value = StreamEventJson.Serialize(evt) }));
        }

        await Task.WhenAll(deliveries);
    }

    /// <summary>Every record of <paramref name="topic"/> from its start, read until <paramref name="enough"/> holds and then <paramref name="quiet"/> passes with no new record, or until <paramref name="timeout"/>.</summary>
    public static List<ConsumeResult<string, byte[]>> ReadAll(string bootstrap, string topic, Func<IReadOnlyList<ConsumeResult<string, byte[]>>, bool> enough, TimeSpan quiet, TimeSpan timeout)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = $"test-{Guid.NewGuid():N}",
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            FetchWaitMaxMs = 50,
        }).Build();
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build())
        {
            var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics[0].Partitions;
            consumer.Assign(partitions.Select(p => new TopicPartitionOffset(topic, p.PartitionId, Offset.Beginning)));
        }

        var records = new List<ConsumeResult<string, byte[]>>();
        var deadline = DateTime.UtcNow + timeout;
        DateTime? quietUntil = null;
        while (DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (result?.Message is not null)
            {
                records.Add(result);
                quietUntil = null;
            }

            if (enough(records))
            {
                quietUntil ??= DateTime.UtcNow + quiet;
                if (DateTime.UtcNow >= quietUntil)
                {
                    break;
                }
            }
        }

        return records;
    }

    public static string Text(this ConsumeResult<string, byte[]> record) => Encoding.UTF8.GetString(record.Message.Value);
}
