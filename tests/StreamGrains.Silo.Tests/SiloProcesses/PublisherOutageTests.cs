using System.Net;
using System.Text;
using System.Text.Json;
using StreamGrains.Events;
using StreamGrains.Silo.Tests.Infrastructure;
using Xunit.Abstractions;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary><c>POST /api/events</c> while Kafka is away: nothing lost, nothing twice, in order per key, across a silo restart.</summary>
[Collection(ClusterTests.Name)]
public sealed class PublisherOutageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Events_posted_while_the_broker_is_down_arrive_once_in_order_per_key_with_a_restart_in_between_and_without()
    {
        await using var broker = ChildProcess.StartDll(RepositoryPaths.KafkaBrokerDll, ["--partitions", "4"], redirectInput: true);
        var bootstrap = await broker.WaitForLineAsync("bootstrap.servers=", TimeSpan.FromSeconds(60));
        var spill = Directory.CreateTempSubdirectory("sg-publisher-");
        string[] arguments =
        [
            "--kafka", bootstrap, "--demo", "false",
            "--StreamGrains:Api:PublishTimeout", "00:00:01", "--StreamGrains:Api:SpillDirectory", spill.FullName,
        ];
        var silo = SiloProcess.Start(arguments);
        try
        {
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));

            // Five keys, 60 events each, posted in 12 requests of 25: the first three while Kafka is up, the rest while down.
            var events = Events(0, 300);
            var requests = events.Chunk(25).ToList();
            var spilled = 0;
            for (var r = 0; r < requests.Count; r++)
            {
                if (r == 3)
                {
                    await broker.CommandAsync("down 1");
                }

                var body = "[" + string.Join(",", requests[r].Select(e => Encoding.UTF8.GetString(StreamEventJson.Serialize(e)))) + "]";
                using var response = await silo.Http.PostAsync(new Uri("/api/events", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
                var answer = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.Accepted, answer);
                var json = JsonDocument.Parse(answer).RootElement;
                Assert.Equal(25, json.GetProperty("accepted").GetInt32());
                spilled += json.GetProperty("spilled").GetInt32();
            }

            output.WriteLine($"{spilled} of 300 events spilled");
            Assert.Equal(225, spilled); // every event posted while Kafka was down, none of the others

            // The silo stops (Kafka still away) and starts again once it is back: the spill log is sent first.
            Assert.Equal(0, await silo.Process.TerminateAsync(TimeSpan.FromSeconds(90)));
            await silo.DisposeAsync();
            await broker.CommandAsync("up 1");
            silo = SiloProcess.Start(arguments);
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));

            AssertArrivedOnceInOrder(bootstrap, events);

            // Down and back again without a restart: the running silo sends what it spilled once Kafka answers.
            await broker.CommandAsync("down 1");
            var more = Events(300, 50);
            foreach (var chunk in more.Chunk(10))
            {
                var body = "[" + string.Join(",", chunk.Select(e => Encoding.UTF8.GetString(StreamEventJson.Serialize(e)))) + "]";
                using var response = await silo.Http.PostAsync(new Uri("/api/events", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
                Assert.Equal(10, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("spilled").GetInt32());
            }

            await broker.CommandAsync("up 1");
            AssertArrivedOnceInOrder(bootstrap, [.. events, .. more]);
        }
        finally
        {
            await silo.DisposeAsync();
            spill.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Events_the_cluster_client_publishes_while_the_broker_is_down_arrive_once_in_order_per_key_after_its_restart()
    {
        await using var broker = ChildProcess.StartDll(RepositoryPaths.KafkaBrokerDll, ["--partitions", "4"], redirectInput: true);
        var bootstrap = await broker.WaitForLineAsync("bootstrap.servers=", TimeSpan.FromSeconds(60));
        var spill = Directory.CreateTempSubdirectory("sg-cluster-publisher-");
        await using var silo = SiloProcess.Start("--kafka", bootstrap, "--demo", "false");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        void Configure(StreamGrains.Client.Cluster.StreamGrainsClusterClientOptions o)
        {
            o.KafkaBootstrapServers = bootstrap;
            o.SpillDirectory = spill.FullName;
            o.PublishTimeout = TimeSpan.FromSeconds(1);
        }

        try
        {
            var events = Events(0, 300);
            var spilled = 0;
            await using (var host = await ClusterClientHost.StartAsync(silo, Configure))
            {
                var calls = events.Chunk(25).ToList();
                for (var c = 0; c < calls.Count; c++)
                {
                    if (c == 3)
                    {
                        await broker.CommandAsync("down 1");
                    }

                    var answer = await host.Client.PublishAsync(calls[c]);
                    Assert.Equal(25, answer.Accepted);
                    spilled += answer.Spilled;
                }
            }

            output.WriteLine($"{spilled} of 300 events spilled in the client's process");
            Assert.Equal(225, spilled);
            Assert.NotEmpty(Directory.GetFiles(spill.FullName));

            // The client's process stopped with Kafka away; Kafka comes back, and so does the client, with its spill log.
            await broker.CommandAsync("up 1");
            await using (await ClusterClientHost.StartAsync(silo, Configure))
            {
                AssertArrivedOnceInOrder(bootstrap, events);
            }
        }
        finally
        {
            spill.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_full_spill_log_refuses_posts_whole_with_503_and_retry_after_and_everything_it_took_arrives()
    {
        await using var broker = ChildProcess.StartDll(RepositoryPaths.KafkaBrokerDll, ["--partitions", "4"], redirectInput: true);
        var bootstrap = await broker.WaitForLineAsync("bootstrap.servers=", TimeSpan.FromSeconds(60));
        var spill = Directory.CreateTempSubdirectory("sg-spill-full-");
        try
        {
            await using var silo = SiloProcess.Start(
                "--kafka", bootstrap, "--demo", "false",
                "--StreamGrains:Api:PublishTimeout", "00:00:01", "--StreamGrains:Api:SpillDirectory", spill.FullName,
                "--StreamGrains:Api:MaxSpillBytes", "1048576");
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
            await broker.CommandAsync("down 1");

            // Requests of 1,000 events (about 110 KB in the log each) until one is refused.
            var taken = new List<StreamEvent>();
            var last = new List<StreamEvent>();
            HttpResponseMessage? refused = null;
            for (var r = 0; r < 20 && refused is null; r++)
            {
                var events = last = Events(r * 1_000, 1_000);
                var body = "[" + string.Join(",", events.Select(e => Encoding.UTF8.GetString(StreamEventJson.Serialize(e)))) + "]";
                var response = await silo.Http.PostAsync(new Uri("/api/events", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    Assert.Equal(1_000, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("spilled").GetInt32());
                    taken.AddRange(events);
                    response.Dispose();
                }
                else
                {
                    refused = response;
                }
            }

            Assert.NotNull(refused);
            using (refused)
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
                Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
                Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
                Assert.Contains("MaxSpillBytes", await refused.Content.ReadAsStringAsync());
            }

            // Refused exactly when it would have passed the bound: the log's bytes are the records' (12 + key + value each).
            static long Bytes(IEnumerable<StreamEvent> events) => events.Sum(e => 12L + Encoding.UTF8.GetByteCount(e.Entity) + StreamEventJson.Serialize(e).Length);
            output.WriteLine($"{taken.Count} events ({Bytes(taken)} bytes) spilled before the log was full");
            Assert.True(Bytes(taken) <= 1_048_576 && Bytes(taken) + Bytes(last) > 1_048_576, $"{Bytes(taken)} bytes taken, {Bytes(last)} refused");

            // Kafka back: everything taken arrives, once and in order, and nothing of the refused request.
            await broker.CommandAsync("up 1");
            AssertArrivedOnceInOrder(bootstrap, taken);
        }
        finally
        {
            spill.Delete(recursive: true);
        }
    }

    /// <summary>Five keys, round robin, ids numbered per key.</summary>
    private static List<StreamEvent> Events(int first, int count) =>
        Enumerable.Range(first, count).Select(i => new StreamEvent
        {
            Id = $"k{i % 5}-{i / 5:D3}",
            Entity = $"k{i % 5}",
            Type = "visit",
            Timestamp = DateTimeOffset.UtcNow,
            Value = i,
        }).ToList();

    /// <summary>Every event on the input topic once, and each key's in the order given.</summary>
    private static void AssertArrivedOnceInOrder(string bootstrap, List<StreamEvent> expected)
    {
        var arrived = KafkaIo.ReadAll(bootstrap, "events", r => r.Count >= expected.Count, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(90))
            .Select(r => StreamEventJson.Parse(r.Message.Value, r.Message.Key))
            .ToList();
        Assert.Equal(expected.Select(e => e.Id).Order(), arrived.Select(e => e.Id).Order()); // every one, once
        foreach (var key in expected.Select(e => e.Entity).Distinct())
        {
            Assert.Equal(expected.Where(e => e.Entity == key).Select(e => e.Id), arrived.Where(e => e.Entity == key).Select(e => e.Id)); // in order
        }
    }
}
