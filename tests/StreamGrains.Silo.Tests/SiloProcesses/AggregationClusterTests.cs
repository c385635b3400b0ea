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
