using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Confluent.Kafka;
using Npgsql;
using StreamGrains.Events;
using StreamGrains.Silo.Tests.Infrastructure;
using StreamGrains.Testing;
using Xunit.Abstractions;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary>Silo processes with PostgreSQL storage: clustering through the database, even partition shares, the archive.</summary>
[Collection(ClusterTests.Name)]
public sealed class PostgresClusterTests(ITestOutputHelper output)
{
    private static SiloProcess StartSilo(string bootstrap, string connectionString, params string[] extra) =>
        SiloProcess.Start([
            "--kafka", bootstrap, "--storage", "postgres", "--ConnectionStrings:StreamGrains", connectionString,
            "--StreamGrains:Cluster:AdvertisedAddress", "127.0.0.1", "--demo", "false", .. extra]);

    [Fact]
    public async Task Three_silos_share_the_partitions_evenly_a_killed_one_hands_over_within_five_seconds_and_the_archive_holds_every_event_once()
    {
        var postgres = await PostgresServer.Shared;
        var connectionString = await postgres.CreateDatabaseAsync("cluster");
        await using var broker = ChildProcess.StartDll(RepositoryPaths.KafkaBrokerDll, ["--partitions", "8"], redirectInput: true);
        var bootstrap = await broker.WaitForLineAsync("bootstrap.servers=", TimeSpan.FromSeconds(60));

        await using var first = StartSilo(bootstrap, connectionString);
        await first.WaitUntilReadyAsync(TimeSpan.FromSeconds(90)); // it migrates the schema; the others find it done
        await using var second = StartSilo(bootstrap, connectionString);
        await using var third = StartSilo(bootstrap, connectionString);
        await second.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        await third.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        await using var data = NpgsqlDataSource.Create(connectionString);

        // Membership through PostgreSQL lists every live silo; any silo shows every partition's owner, shares 2, 3, 3.
        Assert.Equal(3L, await ScalarAsync<long>(data, "SELECT count(*) FROM OrleansMembershipTable WHERE Status = 3"));
        await WaitForSharesAsync(first, [2, 3, 3], exclude: null, TimeSpan.FromSeconds(30));
        foreach (var silo in new[] { second, third })
        {
            Assert.Equal(8, (await OwnersAsync(silo)).Count(o => o is not null));
        }

        // Events stream in while the third silo is killed.
        var produced = new ConcurrentBag<(int Partition, long Offset)>();
        using var producing = new CancellationTokenSource();
        var producer = Task.Run(() => Produce(bootstrap, produced, producing.Token));
        await Task.Delay(TimeSpan.FromSeconds(3));

        var victim = (await third.GetInfoAsync()).GetProperty("siloAddress").GetString()!;
        var killed = Stopwatch.StartNew();
        third.Process.Kill();
        await WaitForSharesAsync(first, [4, 4], exclude: victim, TimeSpan.FromSeconds(30));
        output.WriteLine($"the survivors read every partition {killed.Elapsed.TotalSeconds:F1} s after the kill");
        Assert.True(killed.Elapsed < TimeSpan.FromSeconds(5), $"the survivors took {killed.Elapsed.TotalSeconds:F1} s to read every partition");

        await Task.Delay(TimeSpan.FromSeconds(3));
        await producing.CancelAsync();
        await producer;

        // Every produced (partition, offset) is in the archive, exactly once.
        var expected = produced.ToHashSet();
        output.WriteLine($"{expected.Count} events produced");
        Assert.True(expected.Count > 1000, "too few events to show anything");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        long archived;
        while ((archived = await ScalarAsync<long>(data, "SELECT count(*) FROM events")) < expected.Count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }

        var rows = new HashSet<(int, long)>();
        await using (var command = data.CreateCommand("SELECT partition, \"offset\" FROM events"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetInt32(0), reader.GetInt64(1)));
            }
        }

        Assert.Equal(expected.Count, archived);
        Assert.True(expected.SetEquals(rows), $"{expected.Except(rows).Count()} produced events missing from the archive");

        // The killed silo is dead in the membership table; a silo that joins takes its share.
        deadline = DateTime.UtcNow.AddSeconds(30);
        while (await ScalarAsync<long>(data, "SELECT count(*) FROM OrleansMembershipTable WHERE Status = 6") < 1 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }

        Assert.Equal(1L, await ScalarAsync<long>(data, "SELECT count(*) FROM OrleansMembershipTable WHERE Status = 6"));
        await using var fourth = StartSilo(bootstrap, connectionString);
        await fourth.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        await WaitForSharesAsync(first, [2, 3, 3], exclude: victim, TimeSpan.FromSeconds(30));
        Assert.Equal(3L, await ScalarAsync<long>(data, "SELECT count(*) FROM OrleansMembershipTable WHERE Status = 3"));
    }

    [Fact]
    public async Task A_cluster_client_finds_the_gateways_in_the_membership_table_and_is_answered_by_the_other_silo_when_its_own_is_killed()
    {
        var postgres = await PostgresServer.Shared;
        var connectionString = await postgres.CreateDatabaseAsync("clusterclient");
        await using var broker = ChildProcess.StartDll(RepositoryPaths.KafkaBrokerDll, ["--partitions", "2"], redirectInput: true);
        var bootstrap = await broker.WaitForLineAsync("bootstrap.servers=", TimeSpan.FromSeconds(60));
        await using var first = StartSilo(bootstrap, connectionString);
        await first.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        await using var second = StartSilo(bootstrap, connectionString);
        await second.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var silos = new Dictionary<string, SiloProcess>
        {
            [(await first.GetInfoAsync()).GetProperty("siloAddress").GetString()!] = first,
            [(await second.GetInfoAsync()).GetProperty("siloAddress").GetString()!] = second,
        };

        await using var client = await ClusterClientHost.StartAsync(o => o.ClusteringConnectionString = connectionString);
        var info = await client.Client.GetInfoAsync();
        Assert.Equal("Postgres", info.Storage);
        Assert.Contains(info.SiloAddress, silos.Keys);

        // The gateway it talks to is killed: the next answers come from the other silo, which the table names.
        silos[info.SiloAddress].Process.Kill();
        var survivor = silos.Keys.Single(a => a != info.SiloAddress);
        var after = await Eventually.ValueAsync(
            async () =>
            {
                try
                {
                    return (await client.Client.GetInfoAsync()).SiloAddress;
                }
                catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
                {
                    output.WriteLine($"while the client fails over: {ex.GetType().Name}: {ex.Message}");
                    return null;
                }
            },
            a => a == survivor,
            TimeSpan.FromSeconds(60));
        Assert.Equal(survivor, after);
    }

    [Fact]
    public async Task Localhost_clustering_shares_the_partitions_evenly_too_and_hands_over_within_five_seconds()
    {
        await using var broker = ChildProcess.StartDll(RepositoryPaths.KafkaBrokerDll, ["--partitions", "8"], redirectInput: true);
        var bootstrap = await broker.WaitForLineAsync("bootstrap.servers=", TimeSpan.FromSeconds(60));
        await using var primary = SiloProcess.Start("--kafka", bootstrap, "--demo", "false");
        await primary.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        await using var second = SiloProcess.Start("--kafka", bootstrap, "--demo", "false", "--primary-silo-port", $"{primary.SiloPort}");
        await using var third = SiloProcess.Start("--kafka", bootstrap, "--demo", "false", "--primary-silo-port", $"{primary.SiloPort}");
        await second.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        await third.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        await WaitForSharesAsync(primary, [2, 3, 3], exclude: null, TimeSpan.FromSeconds(30));

        var victim = (await third.GetInfoAsync()).GetProperty("siloAddress").GetString()!;
        var killed = Stopwatch.StartNew();
        third.Process.Kill();
        await WaitForSharesAsync(primary, [4, 4], exclude: victim, TimeSpan.FromSeconds(30));
        output.WriteLine($"the survivors read every partition {killed.Elapsed.TotalSeconds:F1} s after the kill");
        Assert.True(killed.Elapsed < TimeSpan.FromSeconds(5), $"the survivors took {killed.Elapsed.TotalSeconds:F1} s to read every partition");
    }

    [Fact]
    public async Task With_PostgreSQL_stopped_for_seconds_readiness_shows_the_outage_and_no_event_is_lost()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var connectionString = await postgres.CreateDatabaseAsync("outage");
        await using var silo = SiloProcess.Start("--storage", "postgres", "--ConnectionStrings:StreamGrains", connectionString, "--demo", "false");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var bootstrap = (await silo.GetInfoAsync()).GetProperty("kafka").GetProperty("bootstrapServers").GetString()!;

        var produced = new ConcurrentBag<(int Partition, long Offset)>();
        using var producing = new CancellationTokenSource();
        var producer = Task.Run(() => Produce(bootstrap, produced, producing.Token));
        await Task.Delay(TimeSpan.FromSeconds(2));

        await postgres.StopAsync();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string health;
        do
        {
            await Task.Delay(250);
            using var ready = await silo.Http.GetAsync(new Uri("/health/ready", UriKind.Relative));
            health = await ready.Content.ReadAsStringAsync();
            if (ready.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                break;
            }
        }
        while (DateTime.UtcNow < deadline);

        using (var body = JsonDocument.Parse(health))
        {
            Assert.Equal("Unhealthy", body.RootElement.GetProperty("checks").GetProperty("archive").GetProperty("status").GetString());
        }

        await Task.Delay(TimeSpan.FromSeconds(3));
        await postgres.StartAgainAsync();
        await Task.Delay(TimeSpan.FromSeconds(2));
        await producing.CancelAsync();
        await producer;

        await using var data = NpgsqlDataSource.Create(connectionString);
        var expected = produced.ToHashSet();
        deadline = DateTime.UtcNow.AddSeconds(60);
        while (await ScalarAsync<long>(data, "SELECT count(*) FROM events") < expected.Count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }

        Assert.Equal(expected.Count, await ScalarAsync<long>(data, "SELECT count(*) FROM events"));
        Assert.Equal(expected.Count, await ScalarAsync<long>(data, "SELECT count(DISTINCT (partition, \"offset\")) FROM events"));
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));

        // The archive over HTTP: an entity's events, newest first, bounded; bad parameters named.
        var events = (await silo.Http.GetFromJsonAsync<JsonElement>(new Uri("/api/events?entity=card-007&limit=5", UriKind.Relative))).GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(5, events.Count);
        Assert.All(events, e => Assert.Equal("card-007", e.GetProperty("entity").GetString()));
        var times = events.Select(e => e.GetProperty("ts").GetDateTimeOffset()).ToList();
        Assert.Equal(times.OrderDescending(), times);
        var from = times[^1].ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var since = (await silo.Http.GetFromJsonAsync<JsonElement>(new Uri($"/api/events?entity=card-007&from={Uri.EscapeDataString(from)}&limit=1000", UriKind.Relative))).GetProperty("events");
        Assert.True(since.GetArrayLength() >= 5);
        Assert.All(since.EnumerateArray(), e => Assert.True(e.GetProperty("ts").GetDateTimeOffset() >= times[^1]));
        using var bad = await silo.Http.GetAsync(new Uri("/api/events?limit=5000&to=yesterday", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await bad.Content.ReadAsStringAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty("limit", out _));
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty("to", out _));
    }

    [Fact]
    public async Task With_the_archive_switched_off_nothing_is_archived_and_the_api_says_which_setting_turned_it_off()
    {
        var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync("archive-off");
        await using var silo = SiloProcess.Start("--storage", "postgres", "--ConnectionStrings:StreamGrains", connectionString, "--StreamGrains:Archive:Enabled", "false");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));

        // The demo traffic is read and committed (no archive holds the commits back) while the table stays empty.
        async Task<long> CommittedAsync() => (await silo.GetInfoAsync()).GetProperty("kafka").GetProperty("partitions").EnumerateArray()
            .Sum(p => p.GetProperty("committedOffset").ValueKind == JsonValueKind.Number ? p.GetProperty("committedOffset").GetInt64() : 0);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await CommittedAsync() < 100 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }

        Assert.True(await CommittedAsync() >= 100, "the silo did not read and commit the demo traffic");
        await using var data = NpgsqlDataSource.Create(connectionString);
        Assert.Equal(0L, await ScalarAsync<long>(data, "SELECT count(*) FROM events"));
        using var response = await silo.Http.GetAsync(new Uri("/api/events", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("StreamGrains:Archive:Enabled is false", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_local_cluster_script_starts_a_cluster_whose_silos_share_the_partitions_and_stops_it()
    {
        var script = Path.Combine(RepositoryPaths.Root, "deploy", "local-cluster.sh");
        var (code, output) = await RunAsync(script, "start", "2");
        try
        {
            Assert.True(code == 0, output);
            Assert.Contains("silo 1: http://127.0.0.1:5001", output, StringComparison.Ordinal);
            using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:5001") };
            Assert.Equal("Postgres", (await http.GetFromJsonAsync<JsonElement>(new Uri("/api/info", UriKind.Relative))).GetProperty("storage").GetString());

            // Both silos are ready; the shares follow the membership within seconds.
            var watch = Stopwatch.StartNew();
            List<string?> owners;
            do
            {
                await Task.Delay(200);
                owners = (await http.GetFromJsonAsync<JsonElement>(new Uri("/api/info", UriKind.Relative))).GetProperty("kafka").GetProperty("partitions").EnumerateArray().Select(p => p.GetProperty("owner").GetString()).ToList();
            }
            while (!(owners.Count == 8 && owners.All(o => o is not null) && owners.GroupBy(o => o).Select(g => g.Count()).Order().SequenceEqual([4, 4])) && watch.Elapsed < TimeSpan.FromSeconds(30));

            Assert.Equal(8, owners.Count);
            Assert.Equal([4, 4], owners.GroupBy(o => o).Select(g => g.Count()).Order());
        }
        finally
        {
            var (stopped, stopOutput) = await RunAsync(script, "stop");
            Assert.True(stopped == 0, stopOutput);
        }

        Assert.False(Directory.Exists(Path.Combine(RepositoryPaths.Root, ".local-cluster")));
    }

    [Fact]
    public async Task A_local_cluster_that_fails_to_start_is_stopped_again_and_keeps_its_logs()
    {
        var script = Path.Combine(RepositoryPaths.Root, "deploy", "local-cluster.sh");
        var failed = Path.Combine(RepositoryPaths.Root, ".local-cluster-failed");
        var (usage, usageOutput) = await RunAsync(script, "start", "none");
        Assert.Equal(1, usage);
        Assert.Contains("silos must be a positive number", usageOutput, StringComparison.Ordinal);

        // The second silo's HTTP port is taken: it stops at start-up, and with it the whole start.
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 5001);
        taken.Start();
        var (code, output) = await RunAsync(script, "start", "2");
        try
        {
            Assert.Equal(1, code);
            Assert.Contains("Silo 1 exited.", output, StringComparison.Ordinal);
            Assert.Contains("port 5001", output, StringComparison.Ordinal); // the silo's own one-line reason, from its log
            Assert.False(Directory.Exists(Path.Combine(RepositoryPaths.Root, ".local-cluster")));
            Assert.True(File.Exists(Path.Combine(failed, "silo-1.log")));
            Assert.False(Directory.Exists(File.ReadAllText(Path.Combine(failed, "pg_dir")).Trim()), "PostgreSQL's data directory was left behind");
            foreach (var pid in File.ReadAllLines(Path.Combine(failed, "silos.pid")).Append(File.ReadAllText(Path.Combine(failed, "broker.pid")).Trim()))
            {
                var exited = false;
                for (var i = 0; i < 50 && !exited; i++)
                {
                    try
                    {
                        using var process = Process.GetProcessById(int.Parse(pid, System.Globalization.CultureInfo.InvariantCulture));
                        exited = process.HasExited;
                    }
                    catch (ArgumentException)
                    {
                        exited = true; // no such process
                    }

                    if (!exited)
                    {
                        await Task.Delay(100);
                    }
                }

                Assert.True(exited, $"process {pid} still runs");
            }
        }
        finally
        {
            await RunAsync(script, "stop");
            if (Directory.Exists(failed))
            {
                Directory.Delete(failed, recursive: true);
            }
        }
    }

    private static async Task<(int Code, string Output)> RunAsync(string script, params string[] arguments)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{Path.GetFileName(script)} {string.Join(' ', arguments)} did not finish within 5 minutes");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private static void Produce(string bootstrap, ConcurrentBag<(int Partition, long Offset)> produced, CancellationToken stop)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, EnableIdempotence = true, Partitioner = Confluent.Kafka.Partitioner.Murmur2Random, LingerMs = 5 }).Build();
        var i = 0;
        while (!stop.IsCancellationRequested)
        {
            for (var n = 0; n < 100; n++, i++)
            {
                var key = $"card-{i % 300:D3}";
                producer.Produce("events", new Message<string, byte[]>
                {
                    Key = key,
                    Value = StreamEventJson.Serialize(new StreamEvent { Id = $"{key}#{i}", Entity = key, Type = "payment", Timestamp = DateTimeOffset.UtcNow, Value = i }),
                }, report =>
                {
                    if (!report.Error.IsError)
                    {
                        produced.Add((report.Partition.Value, report.Offset.Value));
                    }
                });
            }

            Thread.Sleep(100); // about 1,000 events a second
        }

        producer.Flush(TimeSpan.FromSeconds(60));
    }

    private static async Task<List<string?>> OwnersAsync(SiloProcess silo) =>
        (await silo.GetInfoAsync()).GetProperty("kafka").GetProperty("partitions").EnumerateArray().Select(p => p.GetProperty("owner").GetString()).ToList();

    private static async Task WaitForSharesAsync(SiloProcess silo, int[] shares, string? exclude, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        List<string?> owners = [];
        while (watch.Elapsed < timeout)
        {
            owners = await OwnersAsync(silo);
            if (owners.All(o => o is not null && o != exclude) && owners.GroupBy(o => o).Select(g => g.Count()).Order().SequenceEqual(shares))
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"shares {string.Join(", ", shares)} not reached within {timeout}; owners: {string.Join(", ", owners)}");
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlDataSource data, string sql)
    {
        await using var command = data.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}

/// <summary>Tests that start whole clusters and time how fast they react: not in parallel with each other.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterTests
{
    public const string Name = "clusters";
}
