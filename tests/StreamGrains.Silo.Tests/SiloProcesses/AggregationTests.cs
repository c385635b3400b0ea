using System.Globalization;
using System.Text;
using System.Text.Json;
using StreamGrains.Events;
using StreamGrains.Kafka.Providers;
using StreamGrains.Silo.Tests.Infrastructure;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary>
/// Aggregations through Kafka, against references computed here from the same events: each window kind, out-of-order
/// events within the lateness and late ones beyond it (in events.late, not in a window), sessions cut at the gap and at
/// the maximum duration, and a global key fed by every partition.
/// </summary>
public sealed class AggregationTests
{
    private const int Partitions = 2;
    private static readonly DateTimeOffset T0 = new(2026, 1, 5, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Windows_sessions_late_events_and_a_global_key_through_Kafka_match_the_reference()
    {
        await using var silo = SiloProcess.Start(
            "--demo", "false", "--partitions", $"{Partitions}",
            "--StreamGrains:Aggregations:IdleTimeout", "00:05:00",
            "--StreamGrains:Aggregations:pay:EventTypes:0", "payment", "--StreamGrains:Aggregations:pay:Window:Kind", "Tumbling",
            "--StreamGrains:Aggregations:pay:Window:Size", "00:00:10", "--StreamGrains:Aggregations:pay:AllowedLateness", "00:00:02",
            "--StreamGrains:Aggregations:hop:EventTypes:0", "payment", "--StreamGrains:Aggregations:hop:GroupBy", "attrs.merchant",
            "--StreamGrains:Aggregations:hop:Window:Kind", "Hopping", "--StreamGrains:Aggregations:hop:Window:Size", "00:00:10", "--StreamGrains:Aggregations:hop:Window:Advance", "00:00:05",
            "--StreamGrains:Aggregations:total:EventTypes:0", "payment", "--StreamGrains:Aggregations:total:GroupBy", "*",
            "--StreamGrains:Aggregations:total:Window:Kind", "Tumbling", "--StreamGrains:Aggregations:total:Window:Size", "00:01:00",
            "--StreamGrains:Aggregations:slide:EventTypes:0", "payment", "--StreamGrains:Aggregations:slide:Window:Kind", "Sliding", "--StreamGrains:Aggregations:slide:Window:Size", "00:00:05",
            "--StreamGrains:Aggregations:visits:EventTypes:0", "click", "--StreamGrains:Aggregations:visits:Window:Kind", "Session",
            "--StreamGrains:Aggregations:visits:Window:Gap", "00:00:05", "--StreamGrains:Aggregations:visits:Window:MaxDuration", "00:00:20");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var bootstrap = (await silo.GetInfoAsync()).GetProperty("kafka").GetProperty("bootstrapServers").GetString()!;

        // Payments of six cards over two minutes, mostly in order; some a few seconds back (within the 2 s lateness or
        // not), then a "closer" on every partition an hour later, which makes every earlier window final.
        var random = new Random(11);
        var sequence = new List<(double Nominal, StreamEvent Event)>();
        for (var i = 0; i < 240; i++)
        {
            var back = i % 17 == 16 ? random.Next(1, 9) : 0; // now and then an event from up to 8 s earlier
            if (Math.Floor(((i * 0.5) - back) / 60) != Math.Floor(i * 0.5 / 60))
            {
                back = 0; // not across a minute: the global minute window is fed by partitions read at their own pace
            }

            sequence.Add((i * 0.5, Payment($"p{i}", $"card-{random.Next(6)}", (i * 0.5) - back, random.Next(100, 10_000) / 100.0, $"m-{random.Next(3)}")));
        }

        // A user's clicks: 0, 2, 4 s (one session); 20, 22 s (another: more than 5 s later); every 3 s from 40 to 70 s
        // (one run, cut at 20 s: 40..58 and 61..70). Produced among the payments in time order.
        sequence.AddRange(new[] { 0, 2, 4, 20, 22 }.Concat(Enumerable.Range(0, 11).Select(i => 40 + (i * 3))).Select(t => ((double)t, Click($"c{t}", "user-1", t))));
        var all = sequence.OrderBy(s => s.Nominal).Select(s => s.Event).ToList();
        var events = all.Where(e => e.Type == "payment").ToList();
        var closers = Enumerable.Range(0, 40).Select(i => Payment($"closer-{i}", $"closer-{i}", 3_600, 1, "m-0")).ToList();
        await KafkaIo.ProduceAsync(bootstrap, all);
        await Task.Delay(500); // the closers after everything else, on every partition
        await KafkaIo.ProduceAsync(bootstrap, closers);

        // Reference, partition by partition as Kafka orders them (the watermark of a card's partition decides).
        var (windows, late) = TumblingReference(all, sizeSeconds: 10, latenessSeconds: 2);
        Assert.NotEmpty(late);
        Assert.True(late.Count < events.Count / 10);

        var aggregates = KafkaIo.ReadAll(bootstrap, "aggregates", r => r.Count(x => Of(x, "pay") && !x.Message.Key.StartsWith("closer", StringComparison.Ordinal)) >= windows.Count,
            TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(60));
        var pay = aggregates.Select(r => JsonDocument.Parse(r.Text()).RootElement).Where(j => j.GetProperty("aggregation").GetString() == "pay" && !j.GetProperty("key").GetString()!.StartsWith("closer", StringComparison.Ordinal)).ToList();
        Assert.Equal(windows.Count, pay.Count);
        foreach (var window in pay)
        {
            var start = window.GetProperty("windowStart").GetDateTimeOffset();
            var expected = windows[(window.GetProperty("key").GetString()!, start)];
            Assert.Equal(expected.Count, window.GetProperty("count").GetInt64());
            Assert.Equal((double)expected.Sum, window.GetProperty("sum").GetDouble(), 9);
            Assert.Equal(expected.Min, window.GetProperty("min").GetDouble());
            Assert.Equal(expected.Max, window.GetProperty("max").GetDouble());
            Assert.Equal(start.AddSeconds(10), window.GetProperty("windowEnd").GetDateTimeOffset());
            Assert.Equal(1, window.GetProperty("distinctEntities").GetInt64());
            Assert.True(window.GetProperty("final").GetBoolean());
            var p50 = window.GetProperty("p50").GetDouble();
            Assert.InRange(p50, expected.Min, expected.Max);
        }

        // Late events: in events.late, unchanged, with the aggregation and the reason; in no window.
        var lateRecords = KafkaIo.ReadAll(bootstrap, "events.late", r => r.Count >= late.Count, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30));
        var latePay = lateRecords.Where(r => Header(r, "sg-aggregation") == "pay").ToList();
        Assert.Equal(late.Order(), latePay.Select(r => JsonDocument.Parse(r.Text()).RootElement.GetProperty("id").GetString()!).Order());
        Assert.All(latePay, r => Assert.Equal("window-closed", Header(r, "sg-late-reason")));
        var original = events.ToDictionary(e => e.Id!);
        Assert.All(latePay, r => Assert.Equal(original[JsonDocument.Parse(r.Text()).RootElement.GetProperty("id").GetString()!].Entity, r.Message.Key));

        // The global key: every partition feeds it; the window total is exact (the events the per-card aggregation
        // took late are the ones whose partition had passed their window; the global window is a minute long).
        var totals = aggregates.Select(r => JsonDocument.Parse(r.Text()).RootElement).Where(j => j.GetProperty("aggregation").GetString() == "total" && j.GetProperty("windowStart").GetDateTimeOffset() < T0.AddMinutes(10)).ToList();
        var expectedTotals = events.GroupBy(e => Floor(e.Timestamp, 60)).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(expectedTotals.OrderBy(e => e.Key).Select(e => (e.Key, (long)e.Value)), totals.Select(t => (t.GetProperty("windowStart").GetDateTimeOffset(), t.GetProperty("count").GetInt64())).OrderBy(t => t.Item1));

        // Hopping, by merchant: every 10 s window starting every 5 s; counts per merchant and window.
        var hop = aggregates.Select(r => JsonDocument.Parse(r.Text()).RootElement).Where(j => j.GetProperty("aggregation").GetString() == "hop" && j.GetProperty("windowStart").GetDateTimeOffset() < T0.AddMinutes(10)).ToList();
        Assert.NotEmpty(hop);
        Assert.All(hop, h => Assert.Equal(10, (h.GetProperty("windowEnd").GetDateTimeOffset() - h.GetProperty("windowStart").GetDateTimeOffset()).TotalSeconds));
        Assert.Equal(hop.Count, hop.Select(h => (h.GetProperty("key").GetString(), h.GetProperty("windowStart").GetDateTimeOffset())).Distinct().Count());

        // Sliding (KIP-450): per card, the windows [t - 5 s, t] of its events and [t + 1 ms, t + 5 s + 1 ms] where a later
        // event falls within 5 s; both ends inclusive, so each spans 5,001 ms end exclusive.
        var slide = aggregates.Select(r => JsonDocument.Parse(r.Text()).RootElement).Where(j => j.GetProperty("aggregation").GetString() == "slide" && !j.GetProperty("key").GetString()!.StartsWith("closer", StringComparison.Ordinal)).ToList();
        // (No lateness here: an event is late once its partition's watermark passed it.)
        var slideWatermarks = new Dictionary<int, long>();
        var taken = new List<StreamEvent>();
        foreach (var evt in all)
        {
            var partition = KafkaPartitioner.PartitionOf(Encoding.UTF8.GetBytes(evt.Entity), Partitions);
            var time = evt.Timestamp.ToUnixTimeMilliseconds();
            var mark = slideWatermarks[partition] = Math.Max(slideWatermarks.GetValueOrDefault(partition, long.MinValue), time);
            if (evt.Type == "payment" && time + 1 > mark)
            {
                taken.Add(evt);
            }
        }

        foreach (var ofCard in taken.GroupBy(e => e.Entity))
        {
            var times = ofCard.Select(e => e.Timestamp.ToUnixTimeMilliseconds()).Distinct().Order().ToList();
            var starts = times.Select(t => t - 5_000).Concat(times.Where(t => times.Any(u => u > t && u <= t + 5_000)).Select(t => t + 1)).ToHashSet();
            var published = slide.Where(j => j.GetProperty("key").GetString() == ofCard.Key).ToList();
            Assert.Equal(starts.Order(), published.Select(j => j.GetProperty("windowStart").GetDateTimeOffset().ToUnixTimeMilliseconds()).Order());
            foreach (var window in published)
            {
                var start = window.GetProperty("windowStart").GetDateTimeOffset().ToUnixTimeMilliseconds();
                Assert.Equal(start + 5_001, window.GetProperty("windowEnd").GetDateTimeOffset().ToUnixTimeMilliseconds());
                Assert.Equal(ofCard.Count(e => e.Timestamp.ToUnixTimeMilliseconds() >= start && e.Timestamp.ToUnixTimeMilliseconds() <= start + 5_000), window.GetProperty("count").GetInt64());
            }
        }

        // Sessions: cut at the gap and at the maximum duration.
        var sessions = KafkaIo.ReadAll(bootstrap, "sessions", r => r.Count >= 4, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30))
            .Select(r => JsonDocument.Parse(r.Text()).RootElement)
            .Where(j => j.GetProperty("key").GetString() == "user-1")
            .Select(j => ((j.GetProperty("start").GetDateTimeOffset() - T0).TotalSeconds, (j.GetProperty("end").GetDateTimeOffset() - T0).TotalSeconds, j.GetProperty("count").GetInt64(), j.GetProperty("durationMs").GetInt64()))
            .OrderBy(s => s.Item1)
            .ToList();
        Assert.Equal([(0.0, 4.0, 3L, 4_000L), (20.0, 22.0, 2L, 2_000L), (40.0, 58.0, 7L, 18_000L), (61.0, 70.0, 4L, 9_000L)], sessions);

        // Queried live, through HTTP.
        var card = windows.Keys.First().Key;
        var queried = JsonDocument.Parse(await silo.Http.GetStringAsync(new Uri($"/api/aggregates/pay/{card}?to={Uri.EscapeDataString(T0.AddMinutes(10).ToString("O", CultureInfo.InvariantCulture))}", UriKind.Relative))).RootElement;
        Assert.Equal(windows.Count(w => w.Key.Key == card), queried.GetProperty("windows").GetArrayLength());
        Assert.All(queried.GetProperty("windows").EnumerateArray(), w => Assert.True(w.GetProperty("final").GetBoolean()));
        var userSessions = JsonDocument.Parse(await silo.Http.GetStringAsync(new Uri("/api/sessions/visits/user-1", UriKind.Relative))).RootElement;
        Assert.Equal(4, userSessions.GetProperty("sessions").GetArrayLength());
        using var unknownKey = await silo.Http.GetAsync(new Uri("/api/aggregates/pay/no-such-card", UriKind.Relative));
        Assert.Equal(404, (int)unknownKey.StatusCode);
        Assert.Equal("application/problem+json", unknownKey.Content.Headers.ContentType?.MediaType);
        using var unknownAggregation = await silo.Http.GetAsync(new Uri("/api/aggregates/nope?top=3", UriKind.Relative));
        Assert.Equal(404, (int)unknownAggregation.StatusCode);
        var top = JsonDocument.Parse(await silo.Http.GetStringAsync(new Uri("/api/aggregates/total?top=1", UriKind.Relative))).RootElement;
        Assert.Equal("*", top.GetProperty("keys")[0].GetProperty("key").GetString());
    }

    [Fact]
    public async Task With_PostgreSQL_final_windows_and_closed_sessions_are_rows_too()
    {
        var connectionString = await (await StreamGrains.Testing.PostgresServer.Shared).CreateDatabaseAsync("aggregates");
        await using var silo = SiloProcess.Start(
            "--demo", "false", "--partitions", $"{Partitions}", "--storage", "postgres", "--ConnectionStrings:StreamGrains", connectionString,
            "--StreamGrains:Archive:Enabled", "false",
            "--StreamGrains:Aggregations:pay:Window:Kind", "Tumbling", "--StreamGrains:Aggregations:pay:Window:Size", "00:00:10", "--StreamGrains:Aggregations:pay:EventTypes:0", "payment",
            "--StreamGrains:Aggregations:visits:Window:Kind", "Session", "--StreamGrains:Aggregations:visits:Window:Gap", "00:00:05", "--StreamGrains:Aggregations:visits:EventTypes:0", "click");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var bootstrap = (await silo.GetInfoAsync()).GetProperty("kafka").GetProperty("bootstrapServers").GetString()!;
        var events = Enumerable.Range(0, 60).Select(i => Payment($"t{i}", $"card-{i % 3}", i, i + 0.25, "m-1"))
            .Concat([Click("k1", "user-9", 1), Click("k2", "user-9", 3), Click("k3", "user-9", 30)])
            .OrderBy(e => e.Timestamp)
            .Concat(Enumerable.Range(0, 40).Select(i => Payment($"closer-{i}", $"closer-{i}", 3_600, 1, "m-0")))
            .ToList();
        await KafkaIo.ProduceAsync(bootstrap, events);

        var published = KafkaIo.ReadAll(bootstrap, "aggregates", r => r.Count(x => !x.Message.Key.StartsWith("closer", StringComparison.Ordinal)) >= 18, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60))
            .Select(r => JsonDocument.Parse(r.Text()).RootElement)
            .Where(j => !j.GetProperty("key").GetString()!.StartsWith("closer", StringComparison.Ordinal))
            .Select(j => (j.GetProperty("key").GetString()!, j.GetProperty("windowStart").GetDateTimeOffset().ToUnixTimeMilliseconds(), j.GetProperty("count").GetInt64(), j.GetProperty("sum").GetDouble()))
            .Order()
            .ToList();
        Assert.Equal(18, published.Count); // 3 cards x 6 windows of 10 s

        await using var data = Npgsql.NpgsqlDataSource.Create(connectionString);
        var rows = new List<(string, long, long, double)>();
        await Eventually.TrueAsync(async () =>
        {
            rows.Clear();
            await using var command = data.CreateCommand("SELECT key, window_start, count, sum FROM aggregates WHERE aggregation = 'pay' AND key NOT LIKE 'closer%'");
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetString(0), new DateTimeOffset(reader.GetDateTime(1), TimeSpan.Zero).ToUnixTimeMilliseconds(), reader.GetInt64(2), reader.GetDouble(3)));
            }

            return rows.Count >= published.Count;
        }, TimeSpan.FromSeconds(30));
        Assert.Equal(published, rows.Order().ToList());

        await Eventually.TrueAsync(async () =>
        {
            await using var command = data.CreateCommand("SELECT count(*) FROM sessions WHERE aggregation = 'visits' AND key = 'user-9'");
            return (long)(await command.ExecuteScalarAsync())! == 2;
        }, TimeSpan.FromSeconds(30));
        await using (var command = data.CreateCommand("SELECT count, duration_ms, types FROM sessions WHERE aggregation = 'visits' AND key = 'user-9' ORDER BY session_start"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal((2L, 2_000L), (reader.GetInt64(0), reader.GetInt64(1)));
            Assert.Equal(["click", "click"], reader.GetFieldValue<string[]>(2));
        }
    }

    /// <summary>Per partition in produce order: the watermark is the highest time so far; a window past its end plus the lateness takes nothing more.</summary>
    private static (Dictionary<(string Key, DateTimeOffset Start), Expected> Windows, List<string> Late) TumblingReference(List<StreamEvent> events, int sizeSeconds, int latenessSeconds)
    {
        var windows = new Dictionary<(string, DateTimeOffset), Expected>();
        var late = new List<string>();
        var watermarks = new Dictionary<int, DateTimeOffset>();
        foreach (var evt in events)
        {
            var partition = KafkaPartitioner.PartitionOf(Encoding.UTF8.GetBytes(evt.Entity), Partitions);
            var watermark = watermarks[partition] = watermarks.TryGetValue(partition, out var w) && w > evt.Timestamp ? w : evt.Timestamp;
            if (evt.Type != "payment")
            {
                continue; // moves the watermark of its partition, counts in no payment window
            }

            var start = Floor(evt.Timestamp, sizeSeconds);
            if (start.AddSeconds(sizeSeconds + latenessSeconds) <= watermark)
            {
                late.Add(evt.Id!);
                continue;
            }

            if (!windows.TryGetValue((evt.Entity, start), out var window))
            {
                windows[(evt.Entity, start)] = window = new Expected();
            }

            window.Add(evt.Value!.Value);
        }

        return (windows, late);
    }

    private static DateTimeOffset Floor(DateTimeOffset time, int seconds) =>
        DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds() - (time.ToUnixTimeMilliseconds() % (seconds * 1000L)));

    private static bool Of(Confluent.Kafka.ConsumeResult<string, byte[]> record, string aggregation) =>
        JsonDocument.Parse(record.Text()).RootElement.GetProperty("aggregation").GetString() == aggregation;

    private static string? Header(Confluent.Kafka.ConsumeResult<string, byte[]> record, string name) =>
        record.Message.Headers.TryGetLastBytes(name, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;

    private static StreamEvent Payment(string id, string card, double seconds, double value, string merchant) => new()
    {
        Id = id,
        Entity = card,
        Type = "payment",
        Timestamp = T0.AddSeconds(seconds),
        Value = value,
        Attributes = new Dictionary<string, AttributeValue> { ["merchant"] = merchant },
    };

    private static StreamEvent Click(string id, string user, double seconds) => new()
    {
        Id = id,
        Entity = user,
        Type = "click",
        Timestamp = T0.AddSeconds(seconds),
    };

    private sealed class Expected
    {
        public long Count { get; private set; }

        public decimal Sum { get; private set; }

        public double Min { get; private set; } = double.MaxValue;

        public double Max { get; private set; } = double.MinValue;

        public void Add(double value)
        {
            Count++;
            Sum += (decimal)value;
            Min = Math.Min(Min, value);
            Max = Math.Max(Max, value);
        }
    }
}
