using Confluent.Kafka;
using Xunit.Abstractions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StreamGrains.Integration.Tests.Infrastructure;
using StreamGrains.Kafka;
using StreamGrains.Kafka.Health;

namespace StreamGrains.Integration.Tests;

/// <summary>Silos and brokers fail; we count what was lost (nothing) and what was delivered twice (bounded).</summary>
public sealed class ProviderFailureTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_silo_killed_mid_stream_hands_its_partitions_to_the_survivors_and_no_offset_is_missed()
    {
        await using var test = KafkaTestCluster.StartBroker();
        var cluster = await test.StartSilosAsync(silos: 3);
        using var producer = test.Producer();

        var produced = 0;
        async Task ProduceAsync(int count)
        {
            for (var i = 0; i < count; i++, produced++)
            {
                producer.Produce(KafkaTestCluster.Namespace, KafkaTestCluster.Event($"card-{produced % 500:D3}", produced));
                if (i % 1000 == 999)
                {
                    await Task.Delay(50); // a steady stream rather than one burst
                }
            }

            producer.Flush(TimeSpan.FromSeconds(30));
        }

        await ProduceAsync(10_000);
        await KafkaTestCluster.WaitUntilAsync(() => DeliveryLog.DistinctOffsets >= 5_000, TimeSpan.FromMinutes(1), () => $"{DeliveryLog.DistinctOffsets} delivered before the kill");

        var victim = cluster.Silos.First(s => s != cluster.Primary);
        var killing = cluster.KillSiloAsync(victim);
        await ProduceAsync(10_000);
        await killing;

        await KafkaTestCluster.WaitUntilAsync(
            () => DeliveryLog.DistinctOffsets >= produced,
            TimeSpan.FromMinutes(2),
            () => $"{DeliveryLog.DistinctOffsets} of {produced} offsets delivered after the kill");

        var deliveries = DeliveryLog.Deliveries.ToList();
        output.WriteLine($"{produced} produced, {deliveries.Count} deliveries, {deliveries.Count - produced} of them repeats");
        Assert.Equal(produced, deliveries.Select(d => (d.Partition, d.Offset)).Distinct().Count());
        Assert.Equal(produced, deliveries.Select(d => d.EventId).Distinct().Count());
    }

    [Fact]
    public async Task After_the_whole_cluster_is_killed_processing_resumes_from_committed_offsets_with_bounded_redelivery()
    {
        var commitInterval = TimeSpan.FromSeconds(1);
        await using var test = KafkaTestCluster.StartBroker();
        var cluster = await test.StartSilosAsync(silos: 2, commitInterval);
        using var producer = test.Producer();

        const int first = 8_000;
        for (var i = 0; i < first; i++)
        {
            producer.Produce(KafkaTestCluster.Namespace, KafkaTestCluster.Event($"user-{i % 300:D3}", i));
        }

        producer.Flush(TimeSpan.FromSeconds(30));
        await KafkaTestCluster.WaitUntilAsync(() => DeliveryLog.DistinctOffsets >= first, TimeSpan.FromMinutes(1), () => $"{DeliveryLog.DistinctOffsets} of {first} delivered");

        // Give the checkpointers one commit interval, then kill every silo without a graceful stop.
        await Task.Delay(commitInterval * 2);
        foreach (var silo in cluster.Silos.ToList())
        {
            await cluster.KillSiloAsync(silo);
        }

        await test.StopSilosAsync();
        var beforeRestart = DeliveryLog.Deliveries.Count;

        await test.StartSilosAsync(silos: 2, commitInterval);
        const int second = 2_000;
        for (var i = first; i < first + second; i++)
        {
            producer.Produce(KafkaTestCluster.Namespace, KafkaTestCluster.Event($"user-{i % 300:D3}", i));
        }

        producer.Flush(TimeSpan.FromSeconds(30));
        await KafkaTestCluster.WaitUntilAsync(() => DeliveryLog.DistinctOffsets >= first + second, TimeSpan.FromMinutes(1), () => $"{DeliveryLog.DistinctOffsets} of {first + second} delivered after the restart");

        var deliveries = DeliveryLog.Deliveries.ToList();
        var redelivered = Redelivered(deliveries, beforeRestart);
        output.WriteLine($"{redelivered} re-delivered after the restart");
        Assert.Equal(first + second, deliveries.Select(d => (d.Partition, d.Offset)).Distinct().Count());
        // Everything was delivered and committed before the kill: at most what arrived after the last commit returns.
        Assert.True(redelivered == 0, $"{redelivered} events were delivered again after a restart that followed a full commit interval of quiet");
    }

    [Fact]
    public async Task Redelivery_after_a_crash_is_bounded_by_the_commit_interval()
    {
        var commitInterval = TimeSpan.FromSeconds(2);
        await using var test = KafkaTestCluster.StartBroker();
        var cluster = await test.StartSilosAsync(silos: 1, commitInterval);
        using var producer = test.Producer();

        // A steady 2,000 events/s for 4 s, then an immediate kill: the last uncommitted interval comes back, no more.
        const int rate = 2_000;
        var sent = 0;
        for (var second = 0; second < 4; second++)
        {
            for (var tick = 0; tick < 10; tick++)
            {
                for (var i = 0; i < rate / 10; i++, sent++)
                {
                    producer.Produce(KafkaTestCluster.Namespace, KafkaTestCluster.Event($"dev-{sent % 200:D3}", sent));
                }

                await Task.Delay(100);
            }
        }

        producer.Flush(TimeSpan.FromSeconds(30));
        await KafkaTestCluster.WaitUntilAsync(() => DeliveryLog.DistinctOffsets >= sent, TimeSpan.FromMinutes(1), () => $"{DeliveryLog.DistinctOffsets} of {sent} delivered");
        await cluster.KillSiloAsync(cluster.Primary!);
        await test.StopSilosAsync();
        var beforeRestart = DeliveryLog.Deliveries.Count;

        await test.StartSilosAsync(silos: 1, commitInterval);
        await Task.Delay(TimeSpan.FromSeconds(5)); // let the new silo read back whatever was not committed
        var redelivered = Redelivered(DeliveryLog.Deliveries.ToList(), beforeRestart);

        output.WriteLine($"{sent} sent, {redelivered} re-delivered after the crash");
        Assert.Equal(sent, DeliveryLog.DistinctOffsets);
        Assert.True(redelivered <= rate * (commitInterval.TotalSeconds + 1), $"{redelivered} events re-delivered; the bound is {rate * (commitInterval.TotalSeconds + 1)} ({rate}/s over a {commitInterval.TotalSeconds} s commit interval plus a second)");
    }

    [Fact]
    public async Task With_the_broker_down_for_seconds_the_health_check_turns_unready_and_no_offset_is_missed()
    {
        await using var test = KafkaTestCluster.StartBroker();
        await test.StartSilosAsync(silos: 2);
        using var health = new KafkaStreamHealthCheck(new KafkaStreamOptions { BootstrapServers = test.Kafka.BootstrapServers }.AddTopic(KafkaTestCluster.Namespace), TimeSpan.FromSeconds(1));
        using var producer = test.Producer();
        var context = new HealthCheckContext();

        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(context)).Status);
        for (var i = 0; i < 3_000; i++)
        {
            producer.Produce(KafkaTestCluster.Namespace, KafkaTestCluster.Event($"card-{i % 100:D3}", i));
        }

        producer.Flush(TimeSpan.FromSeconds(30));
        test.Kafka.SetBrokerDown(-1);
        for (var i = 3_000; i < 5_000; i++)
        {
            producer.Produce(KafkaTestCluster.Namespace, KafkaTestCluster.Event($"card-{i % 100:D3}", i)); // waits in the producer
        }

        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync(context)).Status);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync(context)).Status);

        test.Kafka.SetBrokerUp(-1);
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
        await KafkaTestCluster.WaitUntilAsync(() => DeliveryLog.DistinctOffsets >= 5_000, TimeSpan.FromMinutes(2), () => $"{DeliveryLog.DistinctOffsets} of 5000 delivered after the broker came back");
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(context)).Status);
        Assert.Equal(5_000, DeliveryLog.Deliveries.Select(d => d.EventId).Distinct().Count());
    }

    /// <summary>Deliveries after the restart of offsets that had been delivered before it.</summary>
    private static int Redelivered(List<Delivery> deliveries, int beforeRestart)
    {
        var seen = deliveries.Take(beforeRestart).Select(d => (d.Partition, d.Offset)).ToHashSet();
        return deliveries.Skip(beforeRestart).Count(d => seen.Contains((d.Partition, d.Offset)));
    }
}
