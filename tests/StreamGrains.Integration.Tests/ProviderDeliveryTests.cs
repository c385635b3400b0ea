using Confluent.Kafka;
using StreamGrains.Integration.Tests.Infrastructure;

namespace StreamGrains.Integration.Tests;

public sealed class ProviderDeliveryTests
{
    [Fact]
    public async Task A_hundred_thousand_records_on_a_thousand_keys_reach_their_grains_in_order()
    {
        const int keys = 1_000;
        const int perKey = 100;
        await using var test = KafkaTestCluster.StartBroker();
        await test.StartSilosAsync(silos: 3);

        using (var producer = test.Producer())
        {
            for (var i = 0; i < perKey; i++)
            {
                for (var k = 0; k < keys; k++)
                {
                    producer.Produce(KafkaTestCluster.Namespace, KafkaTestCluster.Event($"key-{k:D4}", i));
                }
            }

            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
        }

        await KafkaTestCluster.WaitUntilAsync(
            () => DeliveryLog.DistinctOffsets >= keys * perKey,
            TimeSpan.FromMinutes(3),
            () => $"{DeliveryLog.DistinctOffsets} of {keys * perKey} offsets delivered");

        var deliveries = DeliveryLog.Deliveries.ToList();
        Assert.Equal(keys * perKey, deliveries.Select(d => (d.Partition, d.Offset)).Distinct().Count());
        Assert.Equal(keys, deliveries.Select(d => d.Key).Distinct().Count());
        foreach (var byKey in deliveries.Where(d => !d.Replay).GroupBy(d => d.Key))
        {
            // In the order produced: the sequence numbers of a key's first deliveries increase.
            var sequences = byKey.Select(d => int.Parse(d.EventId!.Split('#')[1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(Enumerable.Range(0, perKey), sequences);
            Assert.Single(byKey.Select(d => d.Partition).Distinct());
        }
    }
}
