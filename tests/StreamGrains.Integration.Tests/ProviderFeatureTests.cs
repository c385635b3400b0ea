using System.Text;
using Confluent.Kafka;
using StreamGrains.Events;
using StreamGrains.Integration.Tests.Grains;
using StreamGrains.Integration.Tests.Infrastructure;
using StreamGrains.Kafka.Providers;

namespace StreamGrains.Integration.Tests;

public sealed class ProviderFeatureTests
{
    [Fact]
    public async Task A_subscription_rewound_to_a_token_replays_from_that_offset()
    {
        await using var test = KafkaTestCluster.StartBroker();
        var cluster = await test.StartSilosAsync(silos: 2, explicitSubscriptions: true);
        using var producer = test.Producer();
        for (var i = 0; i < 50; i++)
        {
            producer.Produce(KafkaTestCluster.Namespace, KafkaTestCluster.Event("card-rewind", i));
            producer.Produce(KafkaTestCluster.Namespace, KafkaTestCluster.Event($"card-other-{i % 7}", i)); // interleaved traffic
        }

        producer.Flush(TimeSpan.FromSeconds(30));
        await KafkaTestCluster.WaitUntilAsync(() => DeliveryLog.Deliveries.Count(d => d.Key == "card-rewind") >= 50, TimeSpan.FromMinutes(1), () => "the implicit consumer did not get the 50 events");

        var original = DeliveryLog.Deliveries.Where(d => d.Key == "card-rewind").OrderBy(d => d.Offset).ToList();
        var from = original[20];
        await cluster.Client.GetGrain<IRewindProbeGrain>("card-rewind").SubscribeFrom(from.Partition, from.Offset);

        await KafkaTestCluster.WaitUntilAsync(() => DeliveryLog.ProbeDeliveries.Count >= 30, TimeSpan.FromSeconds(30), () => $"{DeliveryLog.ProbeDeliveries.Count} of 30 replayed");
        var replayed = DeliveryLog.ProbeDeliveries.ToList();
        Assert.Equal(original.Skip(20).Select(d => d.Offset), replayed.Select(d => d.Offset));
        Assert.Equal(original.Skip(20).Select(d => d.EventId), replayed.Select(d => d.EventId));

        // And it goes on with new events after the replay.
        producer.Produce(KafkaTestCluster.Namespace, KafkaTestCluster.Event("card-rewind", 50));
        producer.Flush(TimeSpan.FromSeconds(10));
        await KafkaTestCluster.WaitUntilAsync(() => DeliveryLog.ProbeDeliveries.Count >= 31, TimeSpan.FromSeconds(30), () => "the rewound subscription did not receive the next new event");
        Assert.Equal("card-rewind#50", DeliveryLog.ProbeDeliveries.Last().EventId);
    }

    [Fact]
    public async Task Poison_records_land_in_the_dead_letter_topic_with_their_reason_and_the_partition_goes_on()
    {
        await using var test = KafkaTestCluster.StartBroker();
        await test.StartSilosAsync(silos: 1, maxRecordBytes: 2048);
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = test.Kafka.BootstrapServers, Partitioner = Partitioner.Murmur2Random }).Build();

        // All on one key, so on one partition: the valid records after each poison one must still arrive.
        var poison = new (byte[] Value, string Reason)[]
        {
            (Encoding.UTF8.GetBytes("this is not json"), EventRejection.InvalidJson),
            (Encoding.UTF8.GetBytes("""{"entity":"card-poison","ts":"2026-11-24T10:00:00Z"}"""), EventRejection.MissingField),
            (Encoding.UTF8.GetBytes($$$"""{"entity":"card-poison","type":"payment","ts":1,"attrs":{"blob":"{{{new string('x', 4096)}}}"}}"""), "oversized"),
            (Encoding.UTF8.GetBytes("""{"entity":"someone-else","type":"payment","ts":1}"""), EventRejection.EntityMismatch),
        };
        for (var i = 0; i < 40; i++)
        {
            await producer.ProduceAsync(KafkaTestCluster.Namespace, KafkaTestCluster.Event("card-poison", i));
            if (i % 10 == 5)
            {
                var (value, _) = poison[i / 10];
                await producer.ProduceAsync(KafkaTestCluster.Namespace, new Message<string, byte[]> { Key = "card-poison", Value = value });
            }
        }

        await KafkaTestCluster.WaitUntilAsync(() => DeliveryLog.Deliveries.Count >= 40, TimeSpan.FromMinutes(1), () => $"{DeliveryLog.Deliveries.Count} of 40 valid events delivered");
        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"card-poison#{i}"), DeliveryLog.Deliveries.Select(d => d.EventId));

        using var consumer = new ConsumerBuilder<string?, byte[]>(new ConsumerConfig { BootstrapServers = test.Kafka.BootstrapServers, GroupId = "dlq-reader", EnableAutoCommit = false }).Build();
        var partition = KafkaPartitioner.PartitionOf(Encoding.UTF8.GetBytes("card-poison"), KafkaTestCluster.Partitions);
        consumer.Assign(new TopicPartitionOffset(KafkaTestCluster.Namespace + ".dlq", partition, Offset.Beginning));
        var dead = new List<ConsumeResult<string?, byte[]>>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (dead.Count < poison.Length && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } record)
            {
                dead.Add(record);
            }
        }

        Assert.Equal(poison.Select(p => p.Reason), dead.Select(d => Header(d, "dlq.reason")));
        Assert.All(dead, d =>
        {
            Assert.Equal(KafkaTestCluster.Namespace, Header(d, "dlq.source.topic"));
            Assert.Equal(partition.ToString(System.Globalization.CultureInfo.InvariantCulture), Header(d, "dlq.source.partition"));
            Assert.False(string.IsNullOrEmpty(Header(d, "dlq.detail")));
            Assert.Equal("card-poison", d.Message.Key);
        });
        Assert.Equal(poison[0].Value, dead[0].Message.Value); // the original value travels with it
        var offsets = dead.Select(d => long.Parse(Header(d, "dlq.source.offset"), System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(offsets.Order(), offsets);
    }

    [Fact]
    public async Task Grains_and_clients_publish_to_the_partition_that_the_default_partitioner_names_for_the_key()
    {
        await using var test = KafkaTestCluster.StartBroker();
        var cluster = await test.StartSilosAsync(silos: 1);
        var keys = Enumerable.Range(0, 40).Select(i => $"merchant-{i}").ToList();
        foreach (var key in keys.Take(30))
        {
            await cluster.Client.GetGrain<IPublisherGrain>(key).Publish(3);
        }

        // The cluster client publishes through the same provider.
        foreach (var key in keys.Skip(30))
        {
            var stream = cluster.Client.GetStreamProvider(KafkaTestCluster.ProviderName).GetStream<StreamEvent>(KafkaTestCluster.PublishedTopic, key);
            for (var i = 0; i < 3; i++)
            {
                await stream.OnNextAsync(new StreamEvent { Id = $"{key}-client-{i}", Entity = key, Type = "published", Timestamp = DateTimeOffset.UtcNow, Value = i });
            }
        }

        // The same keys through librdkafka's murmur2_random, the Java client's default, to a twin topic.
        test.Kafka.CreateTopic("twin", KafkaTestCluster.Partitions);
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = test.Kafka.BootstrapServers, Partitioner = Partitioner.Murmur2Random }).Build())
        {
            foreach (var key in keys)
            {
                await producer.ProduceAsync("twin", new Message<string, string> { Key = key, Value = key });
            }
        }

        var published = ReadAll(test, KafkaTestCluster.PublishedTopic, keys.Count * 3);
        var twin = ReadAll(test, "twin", keys.Count).ToDictionary(r => r.Message.Key!, r => r.Partition.Value);

        Assert.Equal(keys.Count * 3, published.Count);
        Assert.True(twin.Values.Distinct().Count() > 1, "the keys should spread over several partitions");
        foreach (var record in published)
        {
            var key = record.Message.Key!;
            Assert.Equal(twin[key], record.Partition.Value);
            Assert.Equal(KafkaPartitioner.PartitionOf(Encoding.UTF8.GetBytes(key), KafkaTestCluster.Partitions), record.Partition.Value);
            var evt = StreamEventJson.Parse(record.Message.Value, key);
            Assert.Equal("published", evt.Type);
        }

        // Per key, in the order published.
        foreach (var byKey in published.GroupBy(r => r.Message.Key))
        {
            Assert.Equal([0.0, 1.0, 2.0], byKey.OrderBy(r => r.Offset.Value).Select(r => StreamEventJson.Parse(r.Message.Value, r.Message.Key).Value!.Value));
        }
    }

    private static List<ConsumeResult<string?, byte[]>> ReadAll(KafkaTestCluster test, string topic, int expected)
    {
        using var consumer = new ConsumerBuilder<string?, byte[]>(new ConsumerConfig { BootstrapServers = test.Kafka.BootstrapServers, GroupId = $"reader-{topic}", EnableAutoCommit = false }).Build();
        consumer.Assign(Enumerable.Range(0, KafkaTestCluster.Partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var records = new List<ConsumeResult<string?, byte[]>>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (records.Count < expected && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } record)
            {
                records.Add(record);
            }
        }

        return records;
    }

    private static string Header(ConsumeResult<string?, byte[]> record, string name) =>
        record.Message.Headers.TryGetLastBytes(name, out var bytes) ? Encoding.UTF8.GetString(bytes) : string.Empty;
}
