using System.Net;
using System.Text.Json;
using StreamGrains.Events;
using StreamGrains.Silo.Tests.Infrastructure;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary>Rules, decisions, context and profiles, through Kafka and the HTTP API of a silo process.</summary>
public sealed class DecisionTests(DecisionRulesFixture fixture) : IClassFixture<DecisionRulesFixture>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow.AddMinutes(-10);

    private static StreamEvent Event(string id, string entity, string type, double seconds, double? value = null, params (string Name, AttributeValue Value)[] attrs) => new()
    {
        Id = id,
        Entity = entity,
        Type = type,
        Timestamp = T0.AddSeconds(seconds),
        Value = value,
        Attributes = attrs.ToDictionary(a => a.Name, a => a.Value, StringComparer.Ordinal),
    };

    [Fact]
    public async Task Each_rule_kind_decides_exactly_on_the_crafted_events_flag_enrich_and_filter_show_and_a_changed_context_is_seen()
    {
        StreamEvent[] events =
        [
            // Threshold (payment, Above 500)
            Event("big-1", "t-1", "payment", 0, 100), Event("big-2", "t-1", "payment", 1, 501), Event("big-3", "t-1", "payment", 2, 500),
            Event("big-4", "t-1", "payment", 3, 9999), Event("big-5", "t-1", "refund", 4, 9999),
            // Velocity (login, 3 within 10 s, Flag)
            Event("v-1", "v-1", "login", 0), Event("v-2", "v-1", "login", 1), Event("v-3", "v-1", "login", 2),
            Event("v-4", "v-1", "login", 30), Event("v-5", "v-1", "login", 31), Event("v-6", "v-1", "login", 32),
            // Deviation (reading, 3 sigmas after 5)
            Event("d-1", "d-1", "reading", 0, 10), Event("d-2", "d-1", "reading", 1, 12), Event("d-3", "d-1", "reading", 2, 10),
            Event("d-4", "d-1", "reading", 3, 12), Event("d-5", "d-1", "reading", 4, 11), Event("d-6", "d-1", "reading", 5, 11.5),
            Event("d-7", "d-1", "reading", 6, 100),
            // NewValue (session, device)
            Event("n-1", "n-1", "session", 0, null, ("device", "ios")), Event("n-2", "n-1", "session", 1, null, ("device", "ios")),
            Event("n-3", "n-1", "session", 2, null, ("device", "android")), Event("n-4", "n-1", "session", 3, null, ("device", "ios")),
            Event("n-5", "n-1", "session", 4, null, ("device", "web")),
            // ContextMismatch (purchase, country vs context home = NL, Enrich)
            Event("u-1", "u-ctx", "purchase", 0, 20, ("country", "NL")), Event("u-2", "u-ctx", "purchase", 1, 20, ("country", "BR")),
            Event("u-3", "u-ctx", "purchase", 2, 20, ("country", "NL")),
            // Expression (click, bot, Filter)
            Event("c-1", "c-1", "click", 0, null, ("bot", false)), Event("c-2", "c-1", "click", 1, null, ("bot", true)),
        ];
        string[] expected = ["big/big-2", "big/big-4", "burst/v-3", "burst/v-6", "odd/d-7", "newdev/n-3", "newdev/n-5", "abroad/u-2", "drop/c-2"];
        await KafkaIo.ProduceAsync(fixture.Bootstrap, events);

        var decisions = ReadDecisions(expected.Length);
        Assert.Equal(expected.Order(), decisions.Select(d => $"{d.GetProperty("rule").GetString()}/{d.GetProperty("eventId").GetString()}").Order());
        var burst = decisions.First(d => d.GetProperty("eventId").GetString() == "v-3");
        Assert.Equal("Velocity", burst.GetProperty("kind").GetString());
        Assert.Equal("Flag", burst.GetProperty("action").GetString());
        Assert.Equal("v-1", burst.GetProperty("entity").GetString());
        Assert.Equal("login", burst.GetProperty("eventType").GetString());
        Assert.Equal(3, burst.GetProperty("details").GetProperty("observed").GetInt32());
        Assert.Equal(T0.AddSeconds(2), burst.GetProperty("eventTs").GetDateTimeOffset());
        Assert.True(burst.GetProperty("decidedAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-2));

        // Flag: on the profile.
        var profile = await GetJsonAsync("/api/profiles/v-1");
        Assert.Equal(["burst"], profile.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(2, profile.GetProperty("decisionsByRule").GetProperty("burst").GetInt32());

        // Enrich and Filter: on events.enriched, which carries every other event with the profile's summary.
        var enriched = KafkaIo.ReadAll(fixture.Bootstrap, "events.enriched", r => r.Count(IsFixtureRecord) >= events.Length - 1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30))
            .Where(IsFixtureRecord).Select(r => JsonDocument.Parse(r.Text()).RootElement).ToList();
        var ids = enriched.Select(e => e.GetProperty("id").GetString()).ToList();
        Assert.Equal(events.Select(e => e.Id).Where(id => id != "c-2").Order(), ids.Order()); // c-2 filtered, nothing twice
        var u2 = enriched.Single(e => e.GetProperty("id").GetString() == "u-2");
        Assert.Equal("NL", u2.GetProperty("enrichments").GetProperty("abroad").GetProperty("contextValue").GetString());
        Assert.Equal(2, u2.GetProperty("profile").GetProperty("count").GetInt32());
        Assert.False(enriched.Single(e => e.GetProperty("id").GetString() == "u-3").TryGetProperty("enrichments", out _));

        // The alerts API has them too, newest first, filtered.
        var alerts = (await GetJsonAsync("/api/alerts?rule=big")).EnumerateArray().ToList();
        Assert.Equal(["big-4", "big-2"], alerts.Select(a => a.GetProperty("eventId").GetString()));

        // A changed context is seen after the refresh interval (2 s here).
        await File.WriteAllLinesAsync(fixture.ContextFile, ["{\"entity\": \"u-ctx\", \"attrs\": {\"home\": \"BR\"}}"]);
        File.SetLastWriteTimeUtc(fixture.ContextFile, DateTime.UtcNow.AddSeconds(1));
        await Eventually.TrueAsync(async () => (await GetJsonAsync("/api/profiles/u-ctx")).GetProperty("context").GetProperty("home").GetString() == "BR", TimeSpan.FromSeconds(20));
        await KafkaIo.ProduceAsync(fixture.Bootstrap, [Event("u-4", "u-ctx", "purchase", 10, 20, ("country", "BR")), Event("u-5", "u-ctx", "purchase", 11, 20, ("country", "NL"))]);
        decisions = ReadDecisions(expected.Length + 1);
        Assert.Equal(expected.Append("abroad/u-5").Order(), decisions.Select(d => $"{d.GetProperty("rule").GetString()}/{d.GetProperty("eventId").GetString()}").Order());
    }

    [Fact]
    public async Task Profiles_are_exact_after_ten_thousand_events_on_five_hundred_entities()
    {
        var random = new Random(42);
        var events = Enumerable.Range(0, 10_000)
            .Select(i => Event($"m-{i}", $"m-{random.Next(500):D3}", "metric", i * 0.01, Math.Round((random.NextDouble() * 1000) - 200, 3)))
            .ToList();
        await KafkaIo.ProduceAsync(fixture.Bootstrap, events);

        var byEntity = events.GroupBy(e => e.Entity).ToDictionary(g => g.Key, g => g.Select(e => e.Value!.Value).ToList());
        Assert.Equal(500, byEntity.Count);
        await Eventually.TrueAsync(async () => await ProfileCountAsync(byEntity.Keys.Last()) == byEntity[byEntity.Keys.Last()].Count, TimeSpan.FromSeconds(60));
        foreach (var (entity, values) in byEntity)
        {
            // Each entity's partition may lag the one of the entity waited for above: until it catches up its profile
            // may not exist yet (404), which is waited out like a short count.
            JsonElement profile = default;
            await Eventually.TrueAsync(
                async () => await TryGetJsonAsync($"/api/profiles/{entity}") is { } found && (profile = found).GetProperty("count").GetInt32() == values.Count,
                TimeSpan.FromSeconds(30),
                entity);

            // The reference, in decimal: count, sum, mean and population standard deviation.
            var sum = values.Sum(v => (decimal)v);
            var mean = sum / values.Count;
            var variance = values.Sum(v => ((decimal)v - mean) * ((decimal)v - mean)) / values.Count;
            Assert.Equal(values.Count, profile.GetProperty("valueCount").GetInt32());
            Assert.Equal((double)sum, profile.GetProperty("sum").GetDouble(), 1e-6);
            Assert.Equal((double)mean, profile.GetProperty("mean").GetDouble(), 1e-9);
            Assert.Equal(Math.Sqrt((double)variance), profile.GetProperty("stddev").GetDouble(), 1e-9);
            Assert.Equal(values.Min(), profile.GetProperty("min").GetDouble());
            Assert.Equal(values.Max(), profile.GetProperty("max").GetDouble());
            Assert.Equal(values.Count, profile.GetProperty("countsByType").GetProperty("metric").GetInt32());
        }

        var stats = await GetJsonAsync("/api/stats");
        Assert.True(stats.GetProperty("silo").GetProperty("eventsProcessed").GetInt64() >= 10_000);
        Assert.True(stats.GetProperty("silo").GetProperty("activeProfiles").GetInt64() >= 500);
    }

    [Fact]
    public async Task An_entity_never_seen_is_a_404_problem_and_bad_queries_are_400_problems()
    {
        using var unknown = await fixture.Silo.Http.GetAsync(new Uri("/api/profiles/nobody-at-all", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        using var badLimit = await fixture.Silo.Http.GetAsync(new Uri("/api/alerts?limit=5000", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, badLimit.StatusCode);
        Assert.Contains("limit", await badLimit.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var longEntity = await fixture.Silo.Http.GetAsync(new Uri($"/api/profiles/{new string('x', 300)}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, longEntity.StatusCode);
    }

    [Fact]
    public async Task The_alert_stream_sends_each_new_decision_as_a_server_sent_event()
    {
        using var http = new HttpClient { BaseAddress = fixture.Silo.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };

        // The stream answers at once, before any decision (a client, or nginx, must not wait for the first one).
        using (var quiet = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        using (var idle = await http.GetAsync(new Uri("/api/alerts/stream?rule=no-such-rule", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, quiet.Token))
        {
            Assert.Equal("text/event-stream", idle.Content.Headers.ContentType?.MediaType);
            Assert.Equal("no-cache", idle.Headers.CacheControl?.ToString());
        }

        using var response = await http.GetAsync(new Uri("/api/alerts/stream?rule=big", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        await KafkaIo.ProduceAsync(fixture.Bootstrap, [Event("sse-1", "sse-1", "payment", 0, 10), Event("sse-2", "sse-1", "payment", 1, 1000)]);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        string? line;
        var eventLine = string.Empty;
        while ((line = await reader.ReadLineAsync(timeout.Token)) is not null)
        {
            if (line.StartsWith("event:", StringComparison.Ordinal))
            {
                eventLine = line;
            }
            else if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                using var decision = JsonDocument.Parse(line["data:".Length..]);
                Assert.Equal("event: decision", eventLine);
                Assert.Equal("sse-2", decision.RootElement.GetProperty("eventId").GetString());
                return;
            }
        }

        Assert.Fail("the stream ended without a decision");
    }

    private List<JsonElement> ReadDecisions(int atLeast) =>
        KafkaIo.ReadAll(fixture.Bootstrap, "decisions", r => r.Count(IsFixtureRecord) >= atLeast, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60))
            .Where(IsFixtureRecord)
            .Select(r => JsonDocument.Parse(r.Text()).RootElement)
            .ToList();

    // Other tests of the class produce decisions about their own entities.
    private static bool IsFixtureRecord(Confluent.Kafka.ConsumeResult<string, byte[]> record) =>
        record.Message.Key is "t-1" or "v-1" or "d-1" or "n-1" or "u-ctx" or "c-1";

    private async Task<int> ProfileCountAsync(string entity)
    {
        using var response = await fixture.Silo.Http.GetAsync(new Uri($"/api/profiles/{entity}", UriKind.Relative));
        return response.IsSuccessStatusCode ? JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("count").GetInt32() : 0;
    }

    private async Task<JsonElement?> TryGetJsonAsync(string path)
    {
        using var response = await fixture.Silo.Http.GetAsync(new Uri(path, UriKind.Relative));
        return response.IsSuccessStatusCode ? JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone() : null;
    }

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await fixture.Silo.Http.GetAsync(new Uri(path, UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement;
    }
}
