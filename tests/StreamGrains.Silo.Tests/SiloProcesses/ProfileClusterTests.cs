using System.Diagnostics;
using System.Text.Json;
using Npgsql;
using StreamGrains.Events;
using StreamGrains.Silo.Tests.Infrastructure;
using StreamGrains.Testing;
using Xunit.Abstractions;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary>Profiles in clusters of silo processes: placed where their partition is read, and exact across a crash.</summary>
[Collection(ClusterTests.Name)]
public sealed class ProfileClusterTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Every_active_profile_is_on_the_silo_that_reads_its_partition_when_partitions_move_and_after_a_silo_leaves()
    {
        await using var broker = ChildProcess.StartDll(RepositoryPaths.KafkaBrokerDll, ["--partitions", "8"], redirectInput: true);
        var bootstrap = await broker.WaitForLineAsync("bootstrap.servers=", TimeSpan.FromSeconds(60));
        // Checkpoints every second: the profiles have written their state and gone quiet long before their partitions move.
        string[] quick = ["--kafka", bootstrap, "--demo", "false", "--StreamGrains:Profiles:CheckpointInterval", "00:00:01"];
        await using var first = SiloProcess.Start(quick);
        await first.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var entities = Enumerable.Range(0, 200).Select(i => $"p-{i:D3}").ToList();

        // One silo: every profile is there.
        await KafkaIo.ProduceAsync(bootstrap, entities.Select(e => Event(e, 0)));
        var firstAddress = (await first.GetInfoAsync()).GetProperty("siloAddress").GetString()!;
        await WaitForPlacementAsync(first, entities, expectedCount: 1, TimeSpan.FromSeconds(60));

        // A second silo takes half the partitions: the profiles of its partitions follow them there, without an event to
        // carry them (a quiet profile left behind was the flaky failure of this test: it moved only if an event came).
        await using var second = SiloProcess.Start([.. quick, "--primary-silo-port", $"{first.SiloPort}"]);
        await second.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        await Eventually.TrueAsync(async () => (await OwnersAsync(first)).Values.Distinct().Count(o => o is not null) == 2 && (await OwnersAsync(first)).Values.All(o => o is not null), TimeSpan.FromSeconds(30));
        await WaitForPlacementAsync(first, entities, expectedCount: 1, TimeSpan.FromSeconds(30));

        // And they stay there as their events come.
        await KafkaIo.ProduceAsync(bootstrap, entities.Select(e => Event(e, 1)));
        var placed = await WaitForPlacementAsync(first, entities, expectedCount: 2, TimeSpan.FromSeconds(60));
        var secondAddress = (await second.GetInfoAsync()).GetProperty("siloAddress").GetString()!;
        output.WriteLine($"with two silos: {placed.Count(p => p.Value == firstAddress)} profiles on the first, {placed.Count(p => p.Value == secondAddress)} on the second");
        Assert.True(placed.Count(p => p.Value == secondAddress) >= 40, "the second silo should hold about half the profiles");
        Assert.True(placed.Count(p => p.Value == firstAddress) >= 40, "the first silo should hold about half the profiles");

        // The second leaves (killed): its partitions and the profiles of their entities come back to the first.
        second.Process.Kill();
        await Eventually.TrueAsync(async () => (await OwnersAsync(first)).Values.All(o => o == firstAddress), TimeSpan.FromSeconds(30));
        await KafkaIo.ProduceAsync(bootstrap, entities.Select(e => Event(e, 2)));
        placed = await WaitForPlacementAsync(first, entities, expectedCount: null, TimeSpan.FromSeconds(60));
        Assert.All(placed.Values, silo => Assert.Equal(firstAddress, silo));
    }

    [Fact]
    public async Task With_PostgreSQL_a_silo_killed_mid_stream_and_restarted_leaves_every_profile_exact_and_no_decision_twice()
    {
        var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync("profiles");
        await using var broker = ChildProcess.StartDll(RepositoryPaths.KafkaBrokerDll, ["--partitions", "4"], redirectInput: true);
        var bootstrap = await broker.WaitForLineAsync("bootstrap.servers=", TimeSpan.FromSeconds(60));
        string[] arguments =
        [
            "--kafka", bootstrap, "--storage", "postgres", "--ConnectionStrings:StreamGrains", connectionString,
            "--StreamGrains:Cluster:AdvertisedAddress", "127.0.0.1", "--demo", "false",
            "--StreamGrains:Profiles:CheckpointInterval", "00:00:02", "--StreamGrains:Kafka:CommitInterval", "00:00:01",
            "--StreamGrains:Archive:Enabled", "false",
            "--StreamGrains:Rules:big:Kind", "Threshold", "--StreamGrains:Rules:big:Above", "900",
        ];
        var silo = SiloProcess.Start(arguments);
        try
        {
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));

            // 20,000 events about 200 entities, produced over about 8 s; the silo is killed 3 s in and started again.
            var random = new Random(7);
            var events = Enumerable.Range(0, 20_000)
                .Select(i => new StreamEvent { Id = $"k-{i}", Entity = $"k-{random.Next(200):D3}", Type = "payment", Timestamp = DateTimeOffset.UtcNow, Value = random.Next(1000) })
                .ToList();
            var producing = Task.Run(async () =>
            {
                foreach (var chunk in events.Chunk(500))
                {
                    await KafkaIo.ProduceAsync(bootstrap, chunk);
                    await Task.Delay(200);
                }
            });
            // Killed while it is deciding (events processed in the last 100 ms): with a checkpoint every two seconds, some
            // decisions are then published for events no stored profile covers yet, which the restart must not repeat.
            await Task.Delay(TimeSpan.FromSeconds(3));
            for (long before = await ProcessedAsync(silo), now; (now = await ProcessedAsync(silo)) == before && !producing.IsCompleted; before = now)
            {
                await Task.Delay(100);
            }

            silo.Process.Kill();
            await silo.DisposeAsync();
            output.WriteLine("killed");

            // Back on its silo port, as a restarted silo is: the new generation supersedes the dead one at once.
            silo = SiloProcess.Start([.. arguments, "--silo-port", $"{silo.SiloPort}", "--gateway-port", $"{silo.GatewayPort}"]);
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
            await producing;

            // Every profile counts exactly its events.
            var expected = events.GroupBy(e => e.Entity).ToDictionary(g => g.Key, g => g.Count());
            var watch = Stopwatch.StartNew();
            foreach (var (entity, count) in expected)
            {
                var seen = 0;
                while (watch.Elapsed < TimeSpan.FromSeconds(120) && (seen = await CountAsync(silo, entity)) < count)
                {
                    await Task.Delay(200);
                }

                if (seen != count)
                {
                    output.WriteLine(string.Join('\n', silo.Process.Output.Split('\n').Where(l => !l.Contains("Orleans.Runtime", StringComparison.Ordinal)).TakeLast(200)));
                }

                Assert.Equal(count, seen);
            }

            // Exactly one decision per event above 900: none lost, none twice.
            var above = events.Where(e => e.Value > 900).Select(e => e.Id!).ToHashSet();
            var decisions = KafkaIo.ReadAll(bootstrap, "decisions", r => r.Count >= above.Count, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(60))
                .Select(r => JsonDocument.Parse(r.Text()).RootElement.GetProperty("eventId").GetString()!)
                .ToList();
            var twice = decisions.GroupBy(d => d).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            output.WriteLine($"{above.Count} events above 900, {decisions.Count} decision records, {twice.Count} twice");
            Assert.Empty(twice);
            var stats = JsonDocument.Parse(await silo.Http.GetStringAsync(new Uri("/api/stats", UriKind.Relative))).RootElement.GetProperty("silo");
            var suppressed = stats.GetProperty("duplicateDecisionsSuppressed").GetInt64();
            output.WriteLine($"after the restart: {stats.GetProperty("replaysSkipped").GetInt64()} replayed events skipped, {suppressed} decisions found published already");
            Assert.True(suppressed > 0, "the kill left no decision to publish twice: the test showed nothing");
            Assert.True(above.SetEquals(decisions), $"{above.Except(decisions).Count()} decisions missing, {decisions.Except(above).Count()} unexpected");
            await using var data = NpgsqlDataSource.Create(connectionString);
            await using var command = data.CreateCommand("SELECT count(*) FROM OrleansStorage WHERE GrainTypeString LIKE '%profile%'");
            Assert.True((long)(await command.ExecuteScalarAsync())! >= 1, "profiles are stored in PostgreSQL");
        }
        finally
        {
            await silo.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task With_PostgreSQL_decisions_Kafka_has_not_acknowledged_when_a_silo_is_killed_or_stopped_are_made_again_after_the_restart(bool kill)
    {
        // Two brokers: the decisions topic on the second, everything else on the first. With the second down, events are
        // read and decided while their decision records wait in the silo's producer; a kill then loses those records
        // unless the profiles' stored state (and so Kafka's commit) stays behind the records whose decisions are unacknowledged.
        var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync("unacked");
        await using var broker = ChildProcess.StartDll(RepositoryPaths.KafkaBrokerDll, ["--brokers", "2", "--partitions", "2"], redirectInput: true);
        var bootstrap = await broker.WaitForLineAsync("bootstrap.servers=", TimeSpan.FromSeconds(60));
        await broker.PlaceLeadersAsync(partitions: 2, topic => topic == "decisions" ? 2 : 1);

        string[] arguments =
        [
            "--kafka", bootstrap, "--storage", "postgres", "--ConnectionStrings:StreamGrains", connectionString,
            "--StreamGrains:Cluster:AdvertisedAddress", "127.0.0.1", "--demo", "false",
            "--StreamGrains:Profiles:CheckpointInterval", "00:00:01", "--StreamGrains:Kafka:CommitInterval", "00:00:01",
            "--StreamGrains:Archive:Enabled", "false",
            "--StreamGrains:Rules:big:Kind", "Threshold", "--StreamGrains:Rules:big:Above", "900",
        ];
        var random = new Random(11);
        List<StreamEvent> Batch(string prefix) => Enumerable.Range(0, 1_000)
            .Select(i => new StreamEvent { Id = $"{prefix}-{i}", Entity = $"u-{random.Next(100):D3}", Type = "payment", Timestamp = DateTimeOffset.UtcNow, Value = random.Next(1000) })
            .ToList();
        var silo = SiloProcess.Start(arguments);
        try
        {
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));

            // A first batch, decided and acknowledged.
            var first = Batch("a");
            await KafkaIo.ProduceAsync(bootstrap, first);
            var aboveFirst = first.Count(e => e.Value > 900);
            Assert.Equal(aboveFirst, KafkaIo.ReadAll(bootstrap, "decisions", r => r.Count >= aboveFirst, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60)).Count);

            // The decisions' broker goes away; a second batch is read and decided, its decision records stay unacknowledged
            // through several checkpoint and commit intervals; then the silo dies.
            await broker.CommandAsync("down 2");
            var second = Batch("b");
            await KafkaIo.ProduceAsync(bootstrap, second);
            var all = first.Concat(second).ToList();
            await WaitForCountsAsync(silo, all, TimeSpan.FromSeconds(60));
            await Task.Delay(TimeSpan.FromSeconds(4));
            if (kill)
            {
                silo.Process.Kill();
            }
            else
            {
                // A graceful stop: the profiles deactivate with their decisions still unacknowledged, and must not write
                // a state that says those events are done.
                Assert.Equal(0, await silo.Process.TerminateAsync(TimeSpan.FromSeconds(120)));
            }

            await silo.DisposeAsync();
            await broker.CommandAsync("up 2");

            // Restarted: every profile exact, and every decision there exactly once.
            silo = SiloProcess.Start([.. arguments, "--silo-port", $"{silo.SiloPort}", "--gateway-port", $"{silo.GatewayPort}"]);
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
            await WaitForCountsAsync(silo, all, TimeSpan.FromSeconds(90));
            var above = all.Where(e => e.Value > 900).Select(e => e.Id!).ToHashSet();
            var decisions = KafkaIo.ReadAll(bootstrap, "decisions", r => r.Count >= above.Count, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(60))
                .Select(r => JsonDocument.Parse(r.Text()).RootElement.GetProperty("eventId").GetString()!)
                .ToList();
            output.WriteLine($"{above.Count} events above 900 ({aboveFirst} in the first batch), {decisions.Count} decision records");
            Assert.Empty(decisions.GroupBy(d => d).Where(g => g.Count() > 1).Select(g => g.Key));
            Assert.True(above.SetEquals(decisions), $"{above.Except(decisions).Count()} decisions missing, {decisions.Except(above).Count()} unexpected");
        }
        finally
        {
            await silo.DisposeAsync();
        }
    }

    /// <summary>Waits until every entity's profile counts exactly its events among <paramref name="events"/>.</summary>
    private static async Task WaitForCountsAsync(SiloProcess silo, IReadOnlyList<StreamEvent> events, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        foreach (var (entity, count) in events.GroupBy(e => e.Entity).ToDictionary(g => g.Key, g => g.Count()))
        {
            var seen = 0;
            while (watch.Elapsed < timeout && (seen = await CountAsync(silo, entity)) != count)
            {
                await Task.Delay(200);
            }

            Assert.True(seen == count, $"profile {entity}: {seen} events, expected {count}");
        }
    }

    private static StreamEvent Event(string entity, int round) => new()
    {
        Id = $"{entity}-{round}",
        Entity = entity,
        Type = "visit",
        Timestamp = DateTimeOffset.UtcNow,
        Value = round,
    };

    /// <summary>Waits until every entity's profile (with <paramref name="expectedCount"/> events, when given) is on the silo that reads its partition; returns entity to silo.</summary>
    private static async Task<Dictionary<string, string>> WaitForPlacementAsync(SiloProcess silo, IReadOnlyList<string> entities, int? expectedCount, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        var misplaced = new List<string>();
        while (watch.Elapsed < timeout)
        {
            var owners = await OwnersAsync(silo);
            var placed = new Dictionary<string, string>(StringComparer.Ordinal);
            misplaced.Clear();
            foreach (var entity in entities)
            {
                using var response = await silo.Http.GetAsync(new Uri($"/api/profiles/{entity}", UriKind.Relative));
                if (!response.IsSuccessStatusCode)
                {
                    misplaced.Add($"{entity}: {(int)response.StatusCode}");
                    continue;
                }

                var profile = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                var at = profile.GetProperty("silo").GetString()!;
                var partition = profile.GetProperty("partition").GetInt32();
                placed[entity] = at;
                if (owners.GetValueOrDefault(partition) != at || (expectedCount is { } count && profile.GetProperty("count").GetInt32() != count))
                {
                    misplaced.Add($"{entity}: partition {partition} read by {owners.GetValueOrDefault(partition)}, profile on {at} with {profile.GetProperty("count").GetInt32()} events");
                }
            }

            if (misplaced.Count == 0)
            {
                return placed;
            }

            await Task.Delay(500);
        }

        Assert.Fail($"{misplaced.Count} profiles not where their partition is read, e.g. {string.Join("; ", misplaced.Take(5))}");
        return [];
    }

    private static async Task<Dictionary<int, string?>> OwnersAsync(SiloProcess silo) =>
        (await silo.GetInfoAsync()).GetProperty("kafka").GetProperty("partitions").EnumerateArray()
            .Where(p => p.GetProperty("topic").GetString() == "events")
            .ToDictionary(p => p.GetProperty("partition").GetInt32(), p => p.GetProperty("owner").GetString());

    private static async Task<long> ProcessedAsync(SiloProcess silo) =>
        JsonDocument.Parse(await silo.Http.GetStringAsync(new Uri("/api/stats", UriKind.Relative))).RootElement.GetProperty("silo").GetProperty("eventsProcessed").GetInt64();

    private static async Task<int> CountAsync(SiloProcess silo, string entity)
    {
        using var response = await silo.Http.GetAsync(new Uri($"/api/profiles/{entity}", UriKind.Relative));
        return response.IsSuccessStatusCode ? JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("count").GetInt32() : 0;
    }
}
