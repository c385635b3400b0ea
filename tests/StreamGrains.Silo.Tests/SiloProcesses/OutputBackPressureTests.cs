using System.Text.Json;
using StreamGrains.Silo.Tests.Infrastructure;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary>
/// Outputs are never dropped: with librdkafka's local queue cut to a handful of records, a burst of decisions,
/// enriched events and final windows waits for room instead of losing what did not fit.
/// </summary>
public sealed class OutputBackPressureTests
{
    private const int Entities = 400;
    [Fact]
    public async Task A_full_producer_queue_holds_outputs_back_and_loses_none()
    {
        await using var silo = SiloProcess.Start(
            "--demo", "false", "--partitions", "2",
            "--StreamGrains:Kafka:Properties:queue.buffering.max.messages", "4",
            "--StreamGrains:Rules:any:Kind", "Threshold", "--StreamGrains:Rules:any:Above", "0",
            "--StreamGrains:Aggregations:pay:Window:Kind", "Tumbling", "--StreamGrains:Aggregations:pay:Window:Size", "00:00:10");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var bootstrap = (await silo.GetInfoAsync()).GetProperty("kafka").GetProperty("bootstrapServers").GetString()!;

        // One event for each of 400 entities in one window (400 decisions, 400 enriched events), then events an hour
        // later on every partition: 400 final windows published in one burst.
        await KafkaIo.ProduceAsync(bootstrap, Enumerable.Range(0, Entities).Select(i => TestEvents.Payment($"p{i}", $"card-{i}", i * 0.01)));
        await Task.Delay(300);
        await KafkaIo.ProduceAsync(bootstrap, Enumerable.Range(0, 20).Select(i => TestEvents.Payment($"closer-{i}", $"closer-{i}", 3_600)));

        var decisions = KafkaIo.ReadAll(bootstrap, "decisions", r => r.Count >= Entities + 20, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(90));
        Assert.Equal(Entities + 20, decisions.Select(r => JsonDocument.Parse(r.Text()).RootElement.GetProperty("eventId").GetString()).Distinct().Count());
        var enriched = KafkaIo.ReadAll(bootstrap, "events.enriched", r => r.Count >= Entities + 20, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(90));
        Assert.Equal(Entities + 20, enriched.Count);
        var windows = KafkaIo.ReadAll(bootstrap, "aggregates", r => r.Count(x => x.Message.Key.StartsWith("card-", StringComparison.Ordinal)) >= Entities, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(90))
            .Where(r => r.Message.Key.StartsWith("card-", StringComparison.Ordinal))
            .ToList();
        Assert.Equal(Entities, windows.Select(r => r.Message.Key).Distinct().Count());
        Assert.Equal(Entities, windows.Count);
    }
}
