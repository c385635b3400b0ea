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
            var events = Enumerable.Range(0, 300).Select(i => new StreamEvent
            {
                Id = $"k{i % 5}-{i / 5:D3}",
                Entity = $"k{i % 5}",
                Type = "visit",
                Timestamp = DateTimeOffset.UtcNow,
                Value = i,
            }).ToList();
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

            var arrived = KafkaIo.ReadAll(bootstrap, "events", r => r.Count >= 300, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(90))
                .Select(r => StreamEventJson.Parse(r.Message.Value, r.Message.Key))
                .ToList();
            Assert.Equal(events.Select(e => e.Id).Order(), arrived.Select(e => e.Id).Order()); // every one, once
            foreach (var key in events.Select(e => e.Entity).Distinct())
            {
                Assert.Equal(events.Where(e => e.Entity == key).Select(e => e.Id), arrived.Where(e => e.Entity == key).Select(e => e.Id)); // in order
            }

            // Down and back again without a restart: the running silo sends what it spilled once Kafka answers.
            await broker.CommandAsync("down 1");
            var more = Enumerable.Range(300, 50).Select(i => new StreamEvent { Id = $"k{i % 5}-{i / 5:D3}", Entity = $"k{i % 5}", Type = "visit", Timestamp = DateTimeOffset.UtcNow, Value = i }).ToList();
            foreach (var chunk in more.Chunk(10))
            {
                var body = "[" + string.Join(",", chunk.Select(e => Encoding.UTF8.GetString(StreamEventJson.Serialize(e)))) + "]";
                using var response = await silo.Http.PostAsync(new Uri("/api/events", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
                Assert.Equal(10, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("spilled").GetInt32());
            }

            await broker.CommandAsync("up 1");
            var all = events.Concat(more).ToList();
            arrived = KafkaIo.ReadAll(bootstrap, "events", r => r.Count >= 350, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(90))
                .Select(r => StreamEventJson.Parse(r.Message.Value, r.Message.Key))
                .ToList();
            Assert.Equal(all.Select(e => e.Id).Order(), arrived.Select(e => e.Id).Order());
            foreach (var key in all.Select(e => e.Entity).Distinct())
            {
                Assert.Equal(all.Where(e => e.Entity == key).Select(e => e.Id), arrived.Where(e => e.Entity == key).Select(e => e.Id));
            }
        }
        finally
        {
            await silo.DisposeAsync();
            spill.Delete(recursive: true);
        }
    }
}
