using System.Text.Json;
using StreamGrains.Silo.Tests.Infrastructure;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary>
/// A re-keyed aggregation's shard learns every partition's latest watermark even when its own keys get no more events:
/// after the traffic stops, windows whose end the partitions' watermarks passed become final.
/// </summary>
public sealed class RekeyedWatermarkTests
{
    [Fact]
    public async Task Windows_become_final_when_only_other_keys_moved_the_watermark_and_then_the_traffic_stopped()
    {
        await using var silo = SiloProcess.Start(
            "--demo", "false", "--partitions", "2", "--StreamGrains:Profiles:Enabled", "false",
            "--StreamGrains:Aggregations:pay:GroupBy", "attrs.merchant",
            "--StreamGrains:Aggregations:pay:Window:Kind", "Tumbling", "--StreamGrains:Aggregations:pay:Window:Size", "00:00:10");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var bootstrap = (await silo.GetInfoAsync()).GetProperty("kafka").GetProperty("bootstrapServers").GetString()!;

        // Payments for five merchants, then at once (within the shards' heartbeat period) events an hour later for
        // another merchant only, on every partition; then nothing more.
        var events = Enumerable.Range(0, 100).Select(i => TestEvents.Payment($"p{i}", $"card-{i % 9}", i * 0.05, $"m-{i % 5}")).ToList();
        await KafkaIo.ProduceAsync(bootstrap, events);
        await KafkaIo.ProduceAsync(bootstrap, Enumerable.Range(0, 20).Select(i => TestEvents.Payment($"later-{i}", $"later-{i}", 3_600, "m-later")));

        var expected = events.GroupBy(e => e.Attributes!["merchant"].ToString()).ToDictionary(g => g.Key, g => (long)g.Count());
        var windows = KafkaIo.ReadAll(bootstrap, "aggregates", r => r.Count >= expected.Count, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(45))
            .Select(r => JsonDocument.Parse(r.Text()).RootElement)
            .ToDictionary(j => j.GetProperty("key").GetString()!, j => j.GetProperty("count").GetInt64());
        Assert.Equal(expected, windows);
    }
}
