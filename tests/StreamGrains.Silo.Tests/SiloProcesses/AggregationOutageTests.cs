using System.Text.Json;
using StreamGrains.Silo.Tests.Infrastructure;
using StreamGrains.Testing;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary>
/// A shard that cannot take a batch (here: PostgreSQL is down while the shards activate and read their state) holds
/// reading back until it can; no batch is given up, so the windows that become final afterwards are exact.
/// </summary>
public sealed class AggregationOutageTests
{
    [Fact]
    public async Task Shards_that_cannot_be_reached_for_seconds_hold_reading_back_and_every_window_stays_exact()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var connectionString = await postgres.CreateDatabaseAsync("aggregation-outage");
        await using var silo = SiloProcess.Start(
            "--storage", "postgres", "--ConnectionStrings:StreamGrains", connectionString, "--demo", "false", "--partitions", "2",
            "--StreamGrains:Archive:Enabled", "false", "--StreamGrains:Profiles:Enabled", "false",
            "--StreamGrains:Aggregations:pay:GroupBy", "attrs.merchant",
            "--StreamGrains:Aggregations:pay:Window:Kind", "Tumbling", "--StreamGrains:Aggregations:pay:Window:Size", "00:00:10");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var bootstrap = (await silo.GetInfoAsync()).GetProperty("kafka").GetProperty("bootstrapServers").GetString()!;

        // No shard is active yet: with PostgreSQL down, none can load its state, so none takes a batch for a while.
        await postgres.StopAsync();
        var events = Enumerable.Range(0, 300).Select(i => TestEvents.Payment($"p{i}", $"card-{i % 7}", i * 0.02, $"m-{i % 5}")).ToList();
        await KafkaIo.ProduceAsync(bootstrap, events);
        await Task.Delay(TimeSpan.FromSeconds(15)); // longer than the feed used to try before it gave up: three calls in 0.6 s per shard
        await postgres.StartAgainAsync();
        // Then an hour later, for the same merchants on every partition: every shard's windows of the data are final.
        await KafkaIo.ProduceAsync(bootstrap, Enumerable.Range(0, 40).Select(i => TestEvents.Payment($"closer-{i}", $"closer-{i}", 3_600, $"m-{i % 5}")));

        var expected = events.GroupBy(e => e.Attributes!["merchant"].ToString()).ToDictionary(g => g.Key, g => (long)g.Count());
        var windows = KafkaIo.ReadAll(bootstrap, "aggregates", r => r.Count >= expected.Count, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(120))
            .Select(r => JsonDocument.Parse(r.Text()).RootElement)
            .Where(j => j.GetProperty("windowStart").GetDateTimeOffset() < TestEvents.T0.AddHours(1))
            .GroupBy(j => j.GetProperty("key").GetString()!)
            .ToDictionary(g => g.Key, g => g.Select(j => j.GetProperty("count").GetInt64()).Distinct().Single());
        Assert.Equal(expected, windows);
    }
}
