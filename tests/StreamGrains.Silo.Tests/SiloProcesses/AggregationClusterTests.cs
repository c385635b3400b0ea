using System.Text.Json;
using StreamGrains.Events;
using StreamGrains.Silo.Tests.Infrastructure;
using StreamGrains.Testing;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary>Aggregations while partitions move between silo processes.</summary>
[Collection(ClusterTests.Name)]
public sealed class AggregationClusterTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 6, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task When_a_silo_joins_and_partitions_move_every_window_is_exact_and_nothing_is_late()
    {
        await using var broker = ChildProcess.StartDll(RepositoryPaths.KafkaBrokerDll, ["--partitions", "4"], redirectInput: true);
        var bootstrap = await broker.WaitForLineAsync("bootstrap.servers=", TimeSpan.FromSeconds(60));
        string[] aggregation =
        [
            "--demo", "false", "--kafka", bootstrap,
            "--StreamGrains:Aggregations:pay:Window:Kind", "Tumbling", "--StreamGrains:Aggregations:pay:Window:Size", "00:00:10",
            "--StreamGrains:Aggregations:pay:EventTypes:0", "payment",
            "--StreamGrains:Profiles:CheckpointInterval", "00:10:00", // commits held back by the profiles: the new reader re-reads
        ];
        await using var first = SiloProcess.Start(aggregation);
        await first.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));

        // Before the move: 100 s of payments of 8 cards, read by the first silo (its shards now hold the open windows and
        // what they took; the committed offsets lag behind, as they do).
        var events = Enumerable.Range(0, 400).Select(i => Payment($"a{i}", $"card-{i % 8}", i * 0.25)).ToList();
        await KafkaIo.ProduceAsync(bootstrap, events);
        await Eventually.TrueAsync(async () => (await StatsAsync(first)).GetProperty("eventsProcessed").GetInt64() >= events.Count, TimeSpan.FromSeconds(30));

        // A second silo takes half the partitions; its reading starts at the committed offsets, behind what the shards took.
        await using var second = SiloProcess.Start([.. aggregation, "--primary-silo-port", $"{first.SiloPort}"]);
        await second.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        await Eventually.TrueAsync(async () => (await OwnersAsync(first)).Values.Distinct().Count(o => o is not null) == 2, TimeSpan.FromSeconds(30));
        var after = Enumerable.Range(400, 400).Select(i => Payment($"a{i}", $"card-{i % 8}", i * 0.25)).ToList();
        events.AddRange(after);
        await KafkaIo.ProduceAsync(bootstrap, after.Concat(Enumerable.Range(0, 40).Select(i => Payment($"closer-{i}", $"closer-{i}", 3_600))));

        // Every window of every card exactly once, with exactly its events; none of them late.
        var expected = events.GroupBy(e => (e.Entity, Start: T0.AddSeconds(Math.Floor((e.Timestamp - T0).TotalSeconds / 10) * 10))).ToDictionary(g => g.Key, g => g.Count());
        var windows = KafkaIo.ReadAll(bootstrap, "aggregates", r => r.Count(x => !x.Message.Key.StartsWith("closer", StringComparison.Ordinal)) >= expected.Count, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(90))
            .Select(r => JsonDocument.Parse(r.Text()).RootElement)
            .Where(j => !j.GetProperty("key").GetString()!.StartsWith("closer", StringComparison.Ordinal))
            .Select(j => ((j.GetProperty("key").GetString()!, j.GetProperty("windowStart").GetDateTimeOffset()), (int)j.GetProperty("count").GetInt64()))
            .ToList();
        Assert.Equal(expected.Count, windows.Count);
        Assert.Equal(expected.OrderBy(e => e.Key).Select(e => (e.Key, e.Value)), windows.OrderBy(w => w.Item1));
        var late = KafkaIo.ReadAll(bootstrap, "events.late", r => false, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10));
        Assert.Empty(late);
    }

    [Fact]
    public async Task With_PostgreSQL_a_silo_killed_mid_stream_and_restarted_leaves_every_window_exact()
    {
        var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync("aggregation-kill");
        await using var broker = ChildProcess.StartDll(RepositoryPaths.KafkaBrokerDll, ["--partitions", "4"], redirectInput: true);
        var bootstrap = await broker.WaitForLineAsync("bootstrap.servers=", TimeSpan.FromSeconds(60));
        string[] arguments =
        [
            "--kafka", bootstrap, "--storage", "postgres", "--ConnectionStrings:StreamGrains", connectionString,
            "--StreamGrains:Cluster:AdvertisedAddress", "127.0.0.1", "--demo", "false", "--StreamGrains:Archive:Enabled", "false",
            // Profiles store at once and Kafka commits every second; the shards store every 3 s: only their own gate keeps
            // the commits from passing what they stored.
            "--StreamGrains:Kafka:CommitInterval", "00:00:01", "--StreamGrains:Profiles:CheckpointInterval", "00:00:00.2",
            "--StreamGrains:Aggregations:CheckpointInterval", "00:00:03",
            "--StreamGrains:Aggregations:pay:Window:Kind", "Tumbling", "--StreamGrains:Aggregations:pay:Window:Size", "00:00:10",
            "--StreamGrains:Aggregations:total:Window:Kind", "Tumbling", "--StreamGrains:Aggregations:total:Window:Size", "00:01:00",
            "--StreamGrains:Aggregations:total:GroupBy", "*",
        ];
        var silo = SiloProcess.Start(arguments);
        try
        {
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));

            // 12,000 payments of 50 cards over 10 minutes of event time, produced over about 6 s; the silo is killed 2 s in.
            var events = Enumerable.Range(0, 12_000).Select(i => Payment($"k{i}", $"card-{i % 50}", i * 0.05)).ToList();
            var producing = Task.Run(async () =>
            {
                foreach (var chunk in events.Chunk(1_000))
                {
                    await KafkaIo.ProduceAsync(bootstrap, chunk);
                    await Task.Delay(500);
                }

                await KafkaIo.ProduceAsync(bootstrap, Enumerable.Range(0, 40).Select(i => Payment($"closer-{i}", $"closer-{i}", 7_200)));
            });
            await Task.Delay(TimeSpan.FromSeconds(2));
            silo.Process.Kill();
            await silo.DisposeAsync();
            silo = SiloProcess.Start([.. arguments, "--silo-port", $"{silo.SiloPort}", "--gateway-port", $"{silo.GatewayPort}"]);
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
            await producing;

            // Every window exactly its events; one published twice (before and after the kill) only with the same numbers.
            var expected = events.GroupBy(e => (e.Entity, Start: Floor(e.Timestamp, 10))).ToDictionary(g => g.Key, g => g.Count());
            var records = KafkaIo.ReadAll(bootstrap, "aggregates", r => r.Select(x => x.Message.Key).Where(k => k.StartsWith("card", StringComparison.Ordinal)).Count() >= expected.Count, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(120))
                .Select(r => JsonDocument.Parse(r.Text()).RootElement)
                .ToList();
            var pay = records.Where(j => j.GetProperty("aggregation").GetString() == "pay" && j.GetProperty("key").GetString()!.StartsWith("card", StringComparison.Ordinal))
                .CountsByWindow();
            Assert.Equal(expected.Keys.Order(), pay.Keys.Order());
            Assert.All(expected, e => Assert.Equal([(long)e.Value], pay[e.Key]));
            var totals = records.Where(j => j.GetProperty("aggregation").GetString() == "total" && j.GetProperty("windowStart").GetDateTimeOffset() < T0.AddHours(1))
                .GroupBy(j => j.GetProperty("windowStart").GetDateTimeOffset())
                .ToDictionary(g => g.Key, g => g.Select(j => j.GetProperty("count").GetInt64()).Distinct().ToList());
            var expectedTotals = events.GroupBy(e => Floor(e.Timestamp, 60)).ToDictionary(g => g.Key, g => (long)g.Count());
            Assert.Equal(expectedTotals.Keys.Order(), totals.Keys.Order());
            Assert.All(expectedTotals, e => Assert.Equal([e.Value], totals[e.Key]));

            // And the rows say the same.
            await using var data = Npgsql.NpgsqlDataSource.Create(connectionString);
            await Eventually.TrueAsync(async () =>
            {
                await using var command = data.CreateCommand("SELECT count(*), coalesce(sum(count), 0) FROM aggregates WHERE aggregation = 'pay' AND key LIKE 'card%'");
                await using var reader = await command.ExecuteReaderAsync();
                await reader.ReadAsync();
                return reader.GetInt64(0) == expected.Count && reader.GetDecimal(1) == events.Count;
            }, TimeSpan.FromSeconds(30));
        }
        finally
        {
            await silo.DisposeAsync();
        }
    }

    [Fact]
    public async Task With_PostgreSQL_final_windows_Kafka_has_not_acknowledged_when_a_silo_is_killed_are_published_after_the_restart()
    {
        // Two brokers: the aggregates topic on the second, everything else on the first. With the second down, windows
        // become final and wait in the silo's producer; a kill loses them unless the shards' stored state (and so Kafka's
        // commit) stays behind the events of windows whose records are unacknowledged.
        var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync("aggregation-unacked");
        await using var broker = ChildProcess.StartDll(RepositoryPaths.KafkaBrokerDll, ["--brokers", "2", "--partitions", "2"], redirectInput: true);
        var bootstrap = await broker.WaitForLineAsync("bootstrap.servers=", TimeSpan.FromSeconds(60));
        await broker.PlaceLeadersAsync(partitions: 2, topic => topic == "aggregates" ? 2 : 1);

        string[] arguments =
        [
            "--kafka", bootstrap, "--storage", "postgres", "--ConnectionStrings:StreamGrains", connectionString,
            "--StreamGrains:Cluster:AdvertisedAddress", "127.0.0.1", "--demo", "false", "--StreamGrains:Archive:Enabled", "false",
            "--StreamGrains:Kafka:CommitInterval", "00:00:01", "--StreamGrains:Profiles:CheckpointInterval", "00:00:00.2",
            "--StreamGrains:Aggregations:CheckpointInterval", "00:00:01",
            "--StreamGrains:Aggregations:pay:Window:Kind", "Tumbling", "--StreamGrains:Aggregations:pay:Window:Size", "00:00:10",
        ];
        var silo = SiloProcess.Start(arguments);
        try
        {
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
            await broker.CommandAsync("down 2");

            // 1,200 payments of 10 cards over 2 minutes of event time, then a later event per card that closes them all.
            var events = Enumerable.Range(0, 1_200).Select(i => Payment($"u{i}", $"card-{i % 10}", i * 0.1)).ToList();
            await KafkaIo.ProduceAsync(bootstrap, events);
            await KafkaIo.ProduceAsync(bootstrap, Enumerable.Range(0, 10).Select(i => Payment($"closer-{i}", $"card-{i}", 3_600)));
            var expected = events.GroupBy(e => (e.Entity, Start: Floor(e.Timestamp, 10))).ToDictionary(g => g.Key, g => (long)g.Count());

            // Every window final on the silo (and published, as far as it can tell), then several checkpoint ticks.
            await Eventually.TrueAsync(async () =>
            {
                foreach (var card in expected.Keys.Select(k => k.Entity).Distinct())
                {
                    using var response = await silo.Http.GetAsync(new Uri($"/api/aggregates/pay/{card}", UriKind.Relative));
                    if (!response.IsSuccessStatusCode)
                    {
                        return false;
                    }

                    var windows = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("windows").EnumerateArray();
                    if (windows.Count(w => w.GetProperty("final").GetBoolean() && w.GetProperty("start").GetDateTimeOffset() < T0.AddHours(1)) != expected.Keys.Count(k => k.Entity == card))
                    {
                        return false;
                    }
                }

                return true;
            }, TimeSpan.FromSeconds(60));
            await Task.Delay(TimeSpan.FromSeconds(4));
            silo.Process.Kill();
            await silo.DisposeAsync();
            await broker.CommandAsync("up 2");

            // Restarted: every window published, with its exact count.
            silo = SiloProcess.Start([.. arguments, "--silo-port", $"{silo.SiloPort}", "--gateway-port", $"{silo.GatewayPort}"]);
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
            var pay = KafkaIo.ReadAll(bootstrap, "aggregates", r => r.Count >= expected.Count, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(90))
                .Select(r => JsonDocument.Parse(r.Text()).RootElement)
                .Where(j => j.GetProperty("windowStart").GetDateTimeOffset() < T0.AddHours(1))
                .CountsByWindow();
            Assert.Equal(expected.Keys.Order(), pay.Keys.Order());
            Assert.All(expected, e => Assert.Equal([e.Value], pay[e.Key]));
        }
        finally
        {
            await silo.DisposeAsync();
        }
    }

    [Fact]
    public async Task With_PostgreSQL_the_whole_cluster_stopped_and_started_again_leaves_every_window_exact()
    {
        var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync("aggregation-restart");
        await using var broker = ChildProcess.StartDll(RepositoryPaths.KafkaBrokerDll, ["--partitions", "4"], redirectInput: true);
        var bootstrap = await broker.WaitForLineAsync("bootstrap.servers=", TimeSpan.FromSeconds(60));
        string[] arguments =
        [
            "--kafka", bootstrap, "--storage", "postgres", "--ConnectionStrings:StreamGrains", connectionString,
            "--StreamGrains:Cluster:AdvertisedAddress", "127.0.0.1", "--demo", "false", "--StreamGrains:Archive:Enabled", "false",
            "--StreamGrains:Aggregations:visits:Window:Kind", "Session", "--StreamGrains:Aggregations:visits:Window:Gap", "00:00:30",
            "--StreamGrains:Aggregations:pages:Window:Kind", "Hopping", "--StreamGrains:Aggregations:pages:Window:Size", "00:01:00",
            "--StreamGrains:Aggregations:pages:Window:Advance", "00:00:20", "--StreamGrains:Aggregations:pages:GroupBy", "attrs.page",
        ];

        // Two silos take the first half (sessions and windows open when they stop), both stop, two start again.
        var first = SiloProcess.Start(arguments);
        await first.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var second = SiloProcess.Start([.. arguments, "--primary-silo-port", $"{first.SiloPort}"]);
        await second.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        // 20 users clicking in turn, each every 10 s, with a pause of 100 s for everyone at 500 s: two sessions each.
        var events = Enumerable.Range(0, 4_000).Select(i => Click($"c{i}", $"user-{i % 20}", (i * 0.5) + (i >= 1_000 ? 100 : 0), $"/p{i % 7}")).ToList();
        await KafkaIo.ProduceAsync(bootstrap, events[..2_000]);
        await Eventually.TrueAsync(async () => await ProcessedAsync(first) + await ProcessedAsync(second) >= 2_000, TimeSpan.FromSeconds(60));
        Assert.Equal(0, await second.Process.TerminateAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(0, await first.Process.TerminateAsync(TimeSpan.FromSeconds(60)));
        await first.DisposeAsync();
        await second.DisposeAsync();

        first = SiloProcess.Start([.. arguments, "--silo-port", $"{first.SiloPort}", "--gateway-port", $"{first.GatewayPort}"]);
        try
        {
            await first.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));

            // From storage, before any new record: user-0's closed session and its open one.
            var stored = JsonDocument.Parse(await first.Http.GetStringAsync(new Uri("/api/sessions/visits/user-0", UriKind.Relative))).RootElement.GetProperty("sessions");
            Assert.Equal([(50L, true), (50L, false)], stored.EnumerateArray().Select(x => (x.GetProperty("count").GetInt64(), x.GetProperty("closed").GetBoolean())));

            await KafkaIo.ProduceAsync(bootstrap, events[2_000..].Concat(Enumerable.Range(0, 40).Select(i => Click($"closer-{i}", $"closer-{i}", 7_200, "/closer"))));

            // Sessions: per user, split where the gap exceeds 30 s.
            var expectedSessions = events.GroupBy(e => e.Entity).SelectMany(g =>
            {
                var times = g.Select(e => e.Timestamp).Order().ToList();
                var sessions = new List<(string, DateTimeOffset, long)>();
                var (start, count) = (times[0], 1L);
                for (var i = 1; i < times.Count; i++)
                {
                    if (times[i] - times[i - 1] > TimeSpan.FromSeconds(30))
                    {
                        sessions.Add((g.Key, start, count));
                        (start, count) = (times[i], 0);
                    }

                    count++;
                }

                sessions.Add((g.Key, start, count));
                return sessions;
            }).ToHashSet();
            var sessions = KafkaIo.ReadAll(bootstrap, "sessions", r => r.Count(x => x.Message.Key.StartsWith("user", StringComparison.Ordinal)) >= expectedSessions.Count, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(90))
                .Select(r => JsonDocument.Parse(r.Text()).RootElement)
                .Where(j => j.GetProperty("key").GetString()!.StartsWith("user", StringComparison.Ordinal))
                .Select(j => (j.GetProperty("key").GetString()!, j.GetProperty("start").GetDateTimeOffset(), j.GetProperty("count").GetInt64()))
                .ToHashSet();
            Assert.Equal(expectedSessions.Order(), sessions.Order());

            // Hopping windows by page: every window's count, whatever silo held it across the restart.
            var expectedPages = events.SelectMany(e => Starts(e.Timestamp).Select(s => (Page: e.Attribute("page")!, Start: s))).GroupBy(x => x).ToDictionary(g => g.Key, g => (long)g.Count());
            var pages = KafkaIo.ReadAll(bootstrap, "aggregates", r => r.Count(x => x.Message.Key != "/closer") >= expectedPages.Count, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(90))
                .Select(r => JsonDocument.Parse(r.Text()).RootElement)
                .Where(j => j.GetProperty("key").GetString() != "/closer")
                .CountsByWindow();
            Assert.Equal(expectedPages.Keys.Order(), pages.Keys.Order());
            Assert.All(expectedPages, e => Assert.Equal([e.Value], pages[e.Key]));
        }
        finally
        {
            await first.DisposeAsync();
        }

        static IEnumerable<DateTimeOffset> Starts(DateTimeOffset time)
        {
            var latest = Floor(time, 20);
            for (var start = latest; start > time.AddMinutes(-1); start = start.AddSeconds(-20))
            {
                yield return start;
            }
        }
    }

    private static async Task<long> ProcessedAsync(SiloProcess silo) => (await StatsAsync(silo)).GetProperty("eventsProcessed").GetInt64();

    private static StreamEvent Click(string id, string user, double seconds, string page) => new()
    {
        Id = id,
        Entity = user,
        Type = "click",
        Timestamp = T0.AddSeconds(seconds),
        Attributes = new Dictionary<string, AttributeValue> { ["page"] = page },
    };

    private static DateTimeOffset Floor(DateTimeOffset time, int seconds) =>
        DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds() - (time.ToUnixTimeMilliseconds() % (seconds * 1000L)));

    private static async Task<JsonElement> StatsAsync(SiloProcess silo) =>
        JsonDocument.Parse(await silo.Http.GetStringAsync(new Uri("/api/stats", UriKind.Relative))).RootElement.GetProperty("silo");

    private static async Task<Dictionary<int, string?>> OwnersAsync(SiloProcess silo) =>
        (await silo.GetInfoAsync()).GetProperty("kafka").GetProperty("partitions").EnumerateArray()
            .Where(p => p.GetProperty("topic").GetString() == "events")
            .ToDictionary(p => p.GetProperty("partition").GetInt32(), p => p.GetProperty("owner").GetString());

    private static StreamEvent Payment(string id, string card, double seconds) => new()
    {
        Id = id,
        Entity = card,
        Type = "payment",
        Timestamp = T0.AddSeconds(seconds),
        Value = 1,
    };
}
