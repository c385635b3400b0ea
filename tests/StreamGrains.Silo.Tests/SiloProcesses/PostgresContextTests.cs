using System.Text.Json;
using Npgsql;
using StreamGrains.Events;
using StreamGrains.Silo.Tests.Infrastructure;
using StreamGrains.Testing;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary>Entity context from PostgreSQL (the table entity_context) drives decisions, and changes are seen after the refresh interval.</summary>
public sealed class PostgresContextTests
{
    [Fact]
    public async Task Context_from_PostgreSQL_drives_ContextMismatch_and_a_changed_row_is_seen_after_the_refresh_interval()
    {
        var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync("context");
        await using var silo = SiloProcess.Start(
            "--demo", "false", "--partitions", "2",
            "--StreamGrains:Context:Kind", "Postgres", "--ConnectionStrings:StreamGrains", connectionString, "--StreamGrains:Context:RefreshInterval", "00:00:02",
            "--StreamGrains:Rules:abroad:Kind", "ContextMismatch", "--StreamGrains:Rules:abroad:Attribute", "country", "--StreamGrains:Rules:abroad:ContextAttribute", "home");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var bootstrap = (await silo.GetInfoAsync()).GetProperty("kafka").GetProperty("bootstrapServers").GetString()!;

        // The silo made the table (memory grain storage: PostgreSQL serves only the context here).
        await using var data = NpgsqlDataSource.Create(connectionString);
        await using (var insert = data.CreateCommand("INSERT INTO entity_context (entity, attrs) VALUES ('card-7', '{\"home\": \"NL\", \"tier\": 2}')"))
        {
            await insert.ExecuteNonQueryAsync();
        }

        var t0 = DateTimeOffset.UtcNow;
        await KafkaIo.ProduceAsync(bootstrap, [Event("a-1", "NL", t0), Event("a-2", "BR", t0.AddSeconds(1))]);
        Assert.Equal(["a-2"], ReadDecisions(bootstrap, 1));
        var profile = JsonDocument.Parse(await silo.Http.GetStringAsync(new Uri("/api/profiles/card-7", UriKind.Relative))).RootElement;
        Assert.Equal("NL", profile.GetProperty("context").GetProperty("home").GetString());
        Assert.Equal(2, profile.GetProperty("context").GetProperty("tier").GetInt32());

        await using (var update = data.CreateCommand("UPDATE entity_context SET attrs = '{\"home\": \"BR\"}', updated_at = now() WHERE entity = 'card-7'"))
        {
            await update.ExecuteNonQueryAsync();
        }

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (JsonDocument.Parse(await silo.Http.GetStringAsync(new Uri("/api/profiles/card-7", UriKind.Relative))).RootElement.GetProperty("context").GetProperty("home").GetString() != "BR")
        {
            Assert.True(DateTime.UtcNow < deadline, "the changed context was not loaded within 20 s");
            await Task.Delay(200);
        }

        await KafkaIo.ProduceAsync(bootstrap, [Event("a-3", "BR", t0.AddSeconds(2)), Event("a-4", "NL", t0.AddSeconds(3))]);
        Assert.Equal(["a-2", "a-4"], ReadDecisions(bootstrap, 2));
    }

    private static StreamEvent Event(string id, string country, DateTimeOffset ts) => new()
    {
        Id = id,
        Entity = "card-7",
        Type = "payment",
        Timestamp = ts,
        Value = 10,
        Attributes = new Dictionary<string, AttributeValue> { ["country"] = country },
    };

    private static List<string> ReadDecisions(string bootstrap, int count) =>
        KafkaIo.ReadAll(bootstrap, "decisions", r => r.Count >= count, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60))
            .Select(r => JsonDocument.Parse(r.Text()).RootElement.GetProperty("eventId").GetString()!)
            .Order()
            .ToList();
}
