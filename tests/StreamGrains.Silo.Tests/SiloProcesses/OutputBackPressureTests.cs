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
    public async Task An_output_Kafka_refuses_for_good_is_counted_as_failed_and_the_event_is_still_decided()
    {
        // The enriched copy of this event is larger than the producer may send: the producer throws at once.
        await using var silo = SiloProcess.Start(
            "--demo", "false", "--partitions", "2", "--StreamGrains:Kafka:Properties:message.max.bytes", "1500",
            "--StreamGrains:Rules:any:Kind", "Threshold", "--StreamGrains:Rules:any:Above", "0");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var bootstrap = (await silo.GetInfoAsync()).GetProperty("kafka").GetProperty("bootstrapServers").GetString()!;

        var big = TestEvents.Payment("big-1", "card-big", 1) with { Attributes = new Dictionary<string, StreamGrains.Events.AttributeValue> { ["note"] = new string('x', 1_400) } };
        await KafkaIo.ProduceAsync(bootstrap, [big]);

        // The profile took it (the grain was not failed by the output), and its decision went out.
        await Eventually.TrueAsync(async () =>
        {
            using var response = await silo.Http.GetAsync(new Uri("/api/profiles/card-big", UriKind.Relative));
            return response.IsSuccessStatusCode && JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("count").GetInt64() == 1;
        }, TimeSpan.FromSeconds(30));
        var decisions = KafkaIo.ReadAll(bootstrap, "decisions", r => r.Count >= 1, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30));
        Assert.Equal("big-1", JsonDocument.Parse(Assert.Single(decisions).Text()).RootElement.GetProperty("eventId").GetString());
        Assert.Empty(KafkaIo.ReadAll(bootstrap, "events.dlq", r => r.Count >= 1, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(5)));

        // The refusal is logged as a failed output; it never reached the grain (which would fail the delivery, and the
        // pulling agent would retry it and dead-letter the event after a minute).
        await Eventually.TrueAsync(() => Task.FromResult(silo.Process.Output.Contains("Kafka did not take a record for 'events.enriched'", StringComparison.Ordinal)), TimeSpan.FromSeconds(10));
        Assert.DoesNotContain("ProduceException", silo.Process.Output, StringComparison.Ordinal);
    }

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
