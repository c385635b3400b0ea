using Confluent.Kafka;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StreamGrains.Integration.Tests.Infrastructure;
using StreamGrains.Kafka;
using StreamGrains.Kafka.Health;

namespace StreamGrains.Integration.Tests;

/// <summary>The broker fails; nothing is lost. Silo crashes are in <see cref="ProviderLossTests"/>.</summary>
public sealed class ProviderFailureTests
{
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

        await KafkaTestCluster.WaitUntilAsync(
            () => health.CheckHealthAsync(context).GetAwaiter().GetResult().Status == HealthStatus.Unhealthy,
            TimeSpan.FromSeconds(30),
            () => "the health check did not turn unhealthy while the broker was down");

        test.Kafka.SetBrokerUp(-1);
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
        await KafkaTestCluster.WaitUntilAsync(() => DeliveryLog.DistinctOffsets >= 5_000, TimeSpan.FromMinutes(2), () => $"{DeliveryLog.DistinctOffsets} of 5000 delivered after the broker came back");
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(context)).Status);
        Assert.Equal(5_000, DeliveryLog.Deliveries.Select(d => d.EventId).Distinct().Count());
    }
}
