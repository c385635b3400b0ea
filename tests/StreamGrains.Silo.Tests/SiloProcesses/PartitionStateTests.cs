using System.Net;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using StreamGrains.Events;
using StreamGrains.Silo.Tests.Infrastructure;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary>What /api/info and readiness say about the partitions: who reads them, whether they can be read, how far behind.</summary>
public sealed class PartitionStateTests
{
    [Fact]
    public async Task The_moment_readiness_answers_200_info_names_a_reader_for_every_partition()
    {
        await using var silo = SiloProcess.Start("--demo", "false");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));

        var partitions = (await silo.GetInfoAsync()).GetProperty("kafka").GetProperty("partitions").EnumerateArray().ToList();
        Assert.Equal(8, partitions.Count);
        var self = (await silo.GetInfoAsync()).GetProperty("siloAddress").GetString();
        Assert.All(partitions, p =>
        {
            Assert.Equal(self, p.GetProperty("owner").GetString());
            Assert.Contains(p.GetProperty("state").GetString(), new[] { "starting", "reading" });
        });
    }

    [Fact]
    public async Task A_broker_that_is_down_makes_its_partitions_unreadable_and_readiness_degraded_while_the_rest_flows()
    {
        await using var broker = ChildProcess.StartDll(RepositoryPaths.KafkaBrokerDll, ["--brokers", "3", "--partitions", "6"], redirectInput: true);
        var bootstrap = await broker.WaitForLineAsync("bootstrap.servers=", TimeSpan.FromSeconds(60));
        await using var silo = SiloProcess.Start("--kafka", bootstrap, "--demo", "false", "--StreamGrains:Kafka:UnreadableAfter", "00:00:03");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));

        Dictionary<int, int> leaders;
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build())
        {
            leaders = admin.GetMetadata("events", TimeSpan.FromSeconds(10)).Topics[0].Partitions.ToDictionary(p => p.PartitionId, p => p.Leader);
        }

        var victim = leaders[0]; // the broker that leads partition 0 (the embedded cluster spreads leaders over its brokers)
        var down = leaders.Where(l => l.Value == victim).Select(l => l.Key).ToHashSet();
        Assert.True(down.Count < 6, $"broker {victim} must not lead every partition");
        await WaitForStatesAsync(silo, p => "reading", TimeSpan.FromSeconds(30));
        await WaitUntilAsync(
            async () => (await silo.GetInfoAsync()).GetProperty("kafka").GetProperty("partitions").EnumerateArray().All(p => p.GetProperty("highWatermark").ValueKind == JsonValueKind.Number),
            TimeSpan.FromSeconds(30),
            "the high watermarks were not known");

        await broker.WriteLineAsync($"down {victim}");
        await broker.WaitForLineAsync($"ok down {victim}", TimeSpan.FromSeconds(10));
        await WaitForStatesAsync(silo, p => down.Contains(p) ? "unreadable" : "reading", TimeSpan.FromSeconds(30));
        using (var ready = await silo.Http.GetAsync(new Uri("/health/ready", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode); // degraded, still in rotation
            using var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
            Assert.Equal("Degraded", body.RootElement.GetProperty("status").GetString());
            var description = body.RootElement.GetProperty("checks").GetProperty("kafka-partitions").GetProperty("description").GetString()!;
            Assert.All(down, p => Assert.Contains($"events[{p}]", description, StringComparison.Ordinal));
        }

        // The others flow on, and the unreadable ones keep their last known high watermark, aging.
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, MessageTimeoutMs = 120_000 }).Build();
        var before = await OffsetsAsync(silo);
        foreach (var partition in leaders.Keys)
        {
            for (var i = 0; i < 10; i++)
            {
                var key = $"card-p{partition}";
                producer.Produce(new TopicPartition("events", partition), new Message<string, byte[]>
                {
                    Key = key,
                    Value = StreamEventJson.Serialize(new StreamEvent { Id = $"{key}-{i}", Entity = key, Type = "payment", Timestamp = DateTimeOffset.UtcNow, Value = i }),
                });
            }
        }

        await WaitUntilAsync(
            async () => (await OffsetsAsync(silo)).Where(p => !down.Contains(p.Key)).All(p => p.Value >= before[p.Key] + 10),
            TimeSpan.FromSeconds(30),
            "the readable partitions did not advance");
        var info = (await silo.GetInfoAsync()).GetProperty("kafka").GetProperty("partitions").EnumerateArray().ToList();
        Assert.All(info.Where(p => down.Contains(p.GetProperty("partition").GetInt32())), p => Assert.True(p.GetProperty("highWatermarkAgeMs").GetInt64() >= 3_000));

        await broker.WriteLineAsync($"up {victim}");
        await broker.WaitForLineAsync($"ok up {victim}", TimeSpan.FromSeconds(10));
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
        await WaitForStatesAsync(silo, p => "reading", TimeSpan.FromSeconds(60));
        await WaitUntilAsync(
            async () => (await OffsetsAsync(silo)).All(p => p.Value >= before[p.Key] + 10),
            TimeSpan.FromSeconds(60),
            "not every partition caught up once the broker was back");
        using (var ready = await silo.Http.GetAsync(new Uri("/health/ready", UriKind.Relative)))
        {
            using var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
            Assert.Equal("Healthy", body.RootElement.GetProperty("status").GetString());
        }

        var lags = (await silo.GetInfoAsync()).GetProperty("kafka").GetProperty("partitions").EnumerateArray().Select(p => p.GetProperty("lag").GetInt64()).ToList();
        Assert.All(lags, lag => Assert.Equal(0, lag));
    }

    private static async Task<Dictionary<int, long>> OffsetsAsync(SiloProcess silo) =>
        (await silo.GetInfoAsync()).GetProperty("kafka").GetProperty("partitions").EnumerateArray()
            .ToDictionary(p => p.GetProperty("partition").GetInt32(), p => p.GetProperty("currentOffset").ValueKind == JsonValueKind.Number ? p.GetProperty("currentOffset").GetInt64() : 0);

    private static Task WaitForStatesAsync(SiloProcess silo, Func<int, string> expected, TimeSpan timeout) =>
        WaitUntilAsync(
            async () => (await silo.GetInfoAsync()).GetProperty("kafka").GetProperty("partitions").EnumerateArray()
                .All(p => p.GetProperty("state").GetString() == expected(p.GetProperty("partition").GetInt32())),
            timeout,
            "the partition states did not become as expected");

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string failure)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{failure} within {timeout}");
            }

            await Task.Delay(200);
        }
    }
}
