using System.Net;
using Microsoft.Extensions.DependencyInjection;
using StreamGrains.Api;
using StreamGrains.Client;
using StreamGrains.Decisions;
using StreamGrains.Events;
using StreamGrains.Hosting;
using StreamGrains.Silo.Tests.Infrastructure;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary>The client SDK against a running silo: every method, the live decision stream, keys and refusals.</summary>
public sealed class ClientSdkTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 7, 9, 0, 0, TimeSpan.Zero);

    private const string Key = "sdk-test-key-0123456789";

    [Fact]
    public async Task Every_method_works_against_a_running_silo_including_the_live_decision_stream()
    {
        await using var silo = await StartSiloAsync();
        var services = new ServiceCollection();
        services.AddStreamGrainsClient(o =>
        {
            o.BaseAddress = silo.BaseAddress;
            o.ApiKey = Key;
        });
        await using var provider = services.BuildServiceProvider();
        await EveryMethodAsync(provider.GetRequiredService<IStreamGrainsClient>());

        // Refusals of the HTTP API's own: no key.
        await using var anonymous = StreamGrainsClient.Create(new StreamGrainsClientOptions { BaseAddress = silo.BaseAddress, MaxRetries = 0 });
        var refused = await Assert.ThrowsAsync<StreamGrainsApiException>(() => anonymous.GetStatsAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
    }

    [Fact]
    public async Task The_cluster_client_answers_every_method_as_the_http_api_does_and_publishes_in_process()
    {
        await using var silo = await StartSiloAsync();
        string bootstrap;
        await using (var http = StreamGrainsClient.Create(new StreamGrainsClientOptions { BaseAddress = silo.BaseAddress, ApiKey = Key }))
        {
            bootstrap = (await http.GetInfoAsync()).Kafka.BootstrapServers;
        }

        var spill = Directory.CreateTempSubdirectory("sg-cluster-client-");
        try
        {
            await using var host = await ClusterClientHost.StartAsync(silo, o =>
            {
                o.KafkaBootstrapServers = bootstrap;
                o.SpillDirectory = spill.FullName;
            });
            await EveryMethodAsync(host.Client);

            // The same refusals as the HTTP API's: status, title, detail and invalid parameters, call by call.
            await using var http = StreamGrainsClient.Create(new StreamGrainsClientOptions { BaseAddress = silo.BaseAddress, ApiKey = Key, MaxRetries = 0 });
            Func<IStreamGrainsClient, Task>[] refusedCalls =
            [
                c => c.GetAlertsAsync(limit: 0),
                c => c.GetAlertsAsync(entity: "", rule: new string('r', 201)),
                c => c.GetTopAsync("pay", top: 0),
                c => c.GetTopAsync("no-such-aggregation"),
                c => c.GetSessionsAsync("pay", "card-1"), // a windowed aggregation
                c => c.GetWindowsAsync("visits", "user-1"), // a session aggregation
                c => c.GetWindowsAsync("pay", new string('k', StreamEvent.MaxEntityLength + 1)),
                c => c.GetProfileAsync(new string('e', StreamEvent.MaxEntityLength + 1)),
                async c =>
                {
                    await foreach (var unused in c.StreamAlertsAsync(rule: new string('r', 201)))
                    {
                    }
                },
            ];
            foreach (var call in refusedCalls)
            {
                var overHttp = await Assert.ThrowsAsync<StreamGrainsApiException>(() => call(http));
                var inCluster = await Assert.ThrowsAsync<StreamGrainsApiException>(() => call(host.Client));
                Assert.Equal((overHttp.Status, overHttp.Title, overHttp.Detail), (inCluster.Status, inCluster.Title, inCluster.Detail));
                Assert.Equal(
                    overHttp.Errors.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"),
                    inCluster.Errors.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"));
            }

            // The grain checks the live stream's filters itself too (a caller of IApiGrain that did not).
            var grain = host.Services.GetRequiredService<IClusterClient>().GetGrain<IApiGrain>(0);
            await Assert.ThrowsAnyAsync<ArgumentException>(async () =>
            {
                await foreach (var unused in grain.StreamAlerts(entity: "", rule: null))
                {
                }
            });
        }
        finally
        {
            spill.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_cluster_client_without_kafka_refuses_to_publish_and_bad_options_name_the_option()
    {
        await using var silo = await StartSiloAsync();
        await using var host = await ClusterClientHost.StartAsync(silo);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => host.Client.PublishAsync([Payment("p", "card-1", 1, 1)]));
        Assert.Contains("KafkaBootstrapServers", refused.Message);
        Assert.Equal("streamgrains", (await host.Client.GetInfoAsync()).ClusterId);

        var noSpill = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder().AddStreamGrainsClusterClient(o =>
            {
                o.Gateways.Add("localhost:30000");
                o.KafkaBootstrapServers = "localhost:9092";
            }));
        Assert.Contains("SpillDirectory", noSpill.Message);
        var both = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder().AddStreamGrainsClusterClient(o =>
            {
                o.Gateways.Add("localhost");
                o.ClusteringConnectionString = "Host=localhost";
            }));
        Assert.Contains("not both", both.Message);
        Assert.Contains("'localhost' is not host:port", both.Message);
    }

    private static async Task<SiloProcess> StartSiloAsync()
    {
        var silo = SiloProcess.Start(
            "--demo", "false", "--partitions", "2",
            "--StreamGrains:Api:Keys:app:Sha256", ApiKeys.Sha256(Key),
            "--StreamGrains:Api:Keys:app:Scopes:0", "read", "--StreamGrains:Api:Keys:app:Scopes:1", "write",
            "--StreamGrains:Rules:big:Kind", "Threshold", "--StreamGrains:Rules:big:Above", "900",
            "--StreamGrains:Aggregations:pay:EventTypes:0", "payment", "--StreamGrains:Aggregations:pay:Window:Kind", "Tumbling", "--StreamGrains:Aggregations:pay:Window:Size", "00:00:10",
            "--StreamGrains:Aggregations:visits:EventTypes:0", "click", "--StreamGrains:Aggregations:visits:Window:Kind", "Session", "--StreamGrains:Aggregations:visits:Window:Gap", "00:00:05");
        try
        {
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
            return silo;
        }
        catch
        {
            await silo.DisposeAsync();
            throw;
        }
    }

    /// <summary>Every method of the interface against a fresh silo, whichever way the client reaches it.</summary>
    private static async Task EveryMethodAsync(IStreamGrainsClient client)
    {
        // The live stream first, so that it sees the decisions as they are made.
        using var streaming = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var live = new List<Decision>();
        var listening = Task.Run(async () =>
        {
            await foreach (var decision in client.StreamAlertsAsync(rule: "big", cancellationToken: streaming.Token))
            {
                live.Add(decision);
                if (live.Count == 2)
                {
                    return;
                }
            }
        });
        await Task.Delay(1_000);

        // Publish: payments of two cards in one 10-second window (two above 900), clicks of a user, then a closer.
        var events = new List<StreamEvent>
        {
            Payment("s-1", "card-1", 1, 100), Payment("s-2", "card-1", 2, 950), Payment("s-3", "card-2", 3, 50),
            Payment("s-4", "card-2", 4, 990), Payment("s-5", "card-1", 5, 10),
            Click("c-1", "user-1", 1), Click("c-2", "user-1", 3),
        };
        Assert.Equal(new PublishResponse(7, 0), await client.PublishAsync(events));
        Assert.Equal(2, (await client.PublishAsync([Payment("closer-1", "closer-1", 3_600, 1), Click("closer-2", "closer-2", 3_600)])).Accepted);

        await listening.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(["s-2", "s-4"], live.Select(d => d.EventId!).Order());

        // Recent decisions, filtered.
        var alerts = await Eventually.ValueAsync(() => client.GetAlertsAsync(rule: "big"), a => a.Count == 2, TimeSpan.FromSeconds(30));
        Assert.Equal(["s-2", "s-4"], alerts.Select(d => d.EventId!).Order());
        Assert.Equal(["s-4"], (await client.GetAlertsAsync(entity: "card-2")).Select(d => d.EventId));
        Assert.Single(await client.GetAlertsAsync(limit: 1));

        // A profile, and one never seen.
        var profile = await Eventually.ValueAsync(() => client.GetProfileAsync("card-1"), p => p?.Count == 3, TimeSpan.FromSeconds(30));
        Assert.Equal(1060, profile!.Sum);
        Assert.Null(await client.GetProfileAsync("never-seen"));

        // Windows, top keys, sessions.
        var windows = await Eventually.ValueAsync(() => client.GetWindowsAsync("pay", "card-1"), w => w?.Windows.Any(x => x.Final) == true, TimeSpan.FromSeconds(30));
        Assert.Equal(3, windows!.Windows.Single(w => w.Start == T0).Count);
        Assert.Null(await client.GetWindowsAsync("pay", "no-such-card"));
        var missing = await Assert.ThrowsAsync<StreamGrainsApiException>(() => client.GetWindowsAsync("no-such-aggregation", "card-1"));
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        var top = await Eventually.ValueAsync(() => client.GetTopAsync("pay", top: 2), t => t.Keys.Count == 2 && t.WindowStart == T0, TimeSpan.FromSeconds(30));
        Assert.Equal([("card-1", 3L), ("card-2", 2L)], top.Keys.Select(k => (k.Key, k.Count)));
        var sessions = await Eventually.ValueAsync(() => client.GetSessionsAsync("visits", "user-1"), s => s?.Sessions.Any(x => x.Closed) == true, TimeSpan.FromSeconds(30));
        Assert.Equal(2, sessions!.Sessions.Single().Count);
        Assert.Null(await client.GetSessionsAsync("visits", "no-such-user"));

        // Statistics and the silo's own description.
        var stats = await client.GetStatsAsync();
        Assert.True(stats.Silo.EventsProcessed >= 9);
        Assert.Equal(2, stats.Silo.DecisionsByRule["big"]);
        var info = await client.GetInfoAsync();
        Assert.Contains(info.Kafka.Topics, t => t.Name == "events");
        Assert.False(string.IsNullOrEmpty(info.SiloAddress));

        // An invalid event arrives as an exception with the problem's details, and publishes nothing of its call: the
        // valid event beside it is not in the profile that a later event of the same entity (so partition) reaches.
        var invalid = await Assert.ThrowsAsync<StreamGrainsApiException>(() => client.PublishAsync([Payment("ok-1", "card-9", 1, 1), new StreamEvent { Entity = "x", Type = "", Timestamp = T0 }]));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.Status);
        Assert.Equal(["[1].type"], invalid.Errors.Keys);
        await client.PublishAsync([Payment("marker-1", "card-9", 2, 2)]);
        var marked = await Eventually.ValueAsync(() => client.GetProfileAsync("card-9"), p => p is not null, TimeSpan.FromSeconds(30));
        Assert.Equal((1L, 2.0), (marked!.Count, marked.Sum));
    }

    private static StreamEvent Payment(string id, string card, double seconds, double value) => new()
    {
        Id = id, Entity = card, Type = "payment", Timestamp = T0.AddSeconds(seconds), Value = value,
    };

    private static StreamEvent Click(string id, string user, double seconds) => new()
    {
        Id = id, Entity = user, Type = "click", Timestamp = T0.AddSeconds(seconds),
    };
}
