using Confluent.Kafka;
using StreamGrains.Silo.Tests.Infrastructure;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary>The embedded broker as its own process, shared by several silo processes.</summary>
public sealed class StandaloneBrokerTests
{
    [Fact]
    public async Task Two_silos_share_one_standalone_broker_and_a_killed_silo_leaves_it_running()
    {
        await using var broker = ChildProcess.StartDll(RepositoryPaths.KafkaBrokerDll, ["--brokers", "2", "--partitions", "4"], redirectInput: true);
        var bootstrap = await broker.WaitForLineAsync("bootstrap.servers=", TimeSpan.FromSeconds(60));

        await using var first = SiloProcess.Start("--kafka", bootstrap);
        await first.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        await using var second = SiloProcess.Start("--kafka", bootstrap, "--primary-silo-port", $"{first.SiloPort}", "--demo", "false");
        await second.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));

        foreach (var silo in new[] { first, second })
        {
            var kafka = (await silo.GetInfoAsync()).GetProperty("kafka");
            Assert.Equal(bootstrap, kafka.GetProperty("bootstrapServers").GetString());
            Assert.False(kafka.GetProperty("embedded").GetBoolean());
            Assert.Equal(4, kafka.GetProperty("topics")[0].GetProperty("partitions").GetInt32());
        }

        first.Process.Kill();

        Assert.False(broker.HasExited);
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = bootstrap, MessageTimeoutMs = 20_000 }).Build();
        var result = await producer.ProduceAsync("events", new Message<string, string> { Key = "k", Value = "after the kill" });
        Assert.Equal(PersistenceStatus.Persisted, result.Status);
        await second.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Faults_injected_on_standard_input_make_the_broker_unreachable_until_it_is_up_again()
    {
        await using var broker = ChildProcess.StartDll(RepositoryPaths.KafkaBrokerDll, ["--partitions", "2", "--topics", "events"], redirectInput: true);
        var bootstrap = await broker.WaitForLineAsync("bootstrap.servers=", TimeSpan.FromSeconds(60));
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        Assert.Equal(2, admin.GetMetadata("events", TimeSpan.FromSeconds(10)).Topics[0].Partitions.Count);

        await broker.WriteLineAsync("down 1");
        await broker.WaitForLineAsync("ok down 1", TimeSpan.FromSeconds(10));
        using (var fresh = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build())
        {
            Assert.Throws<KafkaException>(() => fresh.GetMetadata("events", TimeSpan.FromSeconds(2)));
        }

        await broker.WriteLineAsync("up 1");
        await broker.WaitForLineAsync("ok up 1", TimeSpan.FromSeconds(10));
        Assert.Equal(2, admin.GetMetadata("events", TimeSpan.FromSeconds(10)).Topics[0].Partitions.Count);

        // A command with a missing argument says how to use it.
        await broker.WriteLineAsync("rtt 1");
        await broker.WaitForLineAsync("error rtt 1: usage: rtt <broker|-1> <milliseconds>", TimeSpan.FromSeconds(10));

        await broker.WriteLineAsync("quit");
        Assert.Equal(0, await broker.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }
}
