using System.Net;
using System.Text.Json;
using StreamGrains.Silo.Tests.Infrastructure;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary>
/// <c>StreamGrains:Profiles:Enabled false</c>: the silo ingests and aggregates without a grain per entity; the profile
/// route says why it has nothing, and rules configured with profiles off stop start-up naming both settings.
/// </summary>
public sealed class ProfilesOffTests
{
    [Fact]
    public async Task Aggregations_run_without_any_profile()
    {
        await using var silo = SiloProcess.Start(
            "--demo", "false", "--partitions", "2", "--StreamGrains:Profiles:Enabled", "false",
            "--StreamGrains:Aggregations:pay:EventTypes:0", "payment",
            "--StreamGrains:Aggregations:pay:Window:Kind", "Tumbling", "--StreamGrains:Aggregations:pay:Window:Size", "00:00:10");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var bootstrap = (await silo.GetInfoAsync()).GetProperty("kafka").GetProperty("bootstrapServers").GetString()!;

        // 30 payments of three cards in one window, then a payment an hour later on many keys (every partition).
        var events = Enumerable.Range(0, 30).Select(i => TestEvents.Payment($"p{i}", $"card-{i % 3}", i * 0.2)).ToList();
        await KafkaIo.ProduceAsync(bootstrap, events);
        await Task.Delay(300);
        await KafkaIo.ProduceAsync(bootstrap, Enumerable.Range(0, 20).Select(i => TestEvents.Payment($"closer-{i}", $"closer-{i}", 3_600)));

        var windows = KafkaIo.ReadAll(bootstrap, "aggregates", r => r.Count(x => x.Message.Key.StartsWith("card-", StringComparison.Ordinal)) >= 3, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60))
            .Select(r => JsonDocument.Parse(r.Text()).RootElement)
            .Where(j => j.GetProperty("key").GetString()!.StartsWith("card-", StringComparison.Ordinal))
            .ToDictionary(j => j.GetProperty("key").GetString()!, j => j.GetProperty("count").GetInt64());
        Assert.Equal(new Dictionary<string, long> { ["card-0"] = 10, ["card-1"] = 10, ["card-2"] = 10 }, windows);

        using var profile = await silo.Http.GetAsync(new Uri("/api/profiles/card-0", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, profile.StatusCode);
        Assert.Equal("application/problem+json", profile.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Profiles are turned off", JsonDocument.Parse(await profile.Content.ReadAsStringAsync()).RootElement.GetProperty("title").GetString());

        var stats = JsonDocument.Parse(await silo.Http.GetStringAsync(new Uri("/api/stats", UriKind.Relative))).RootElement.GetProperty("silo");
        Assert.Equal(0, stats.GetProperty("activeProfiles").GetInt64());
    }

    [Fact]
    public async Task Rules_with_profiles_off_stop_start_up_naming_both_settings()
    {
        await using var silo = SiloProcess.Start(
            "--demo", "false", "--StreamGrains:Profiles:Enabled", "false",
            "--StreamGrains:Rules:big:Kind", "Threshold", "--StreamGrains:Rules:big:Above", "100");

        Assert.Equal(2, await silo.Process.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(
            "Invalid configuration: StreamGrains:Rules: rules decide in profiles, which StreamGrains:Profiles:Enabled false turns off (rules configured: big).",
            silo.Process.Errors.Trim());
    }
}
