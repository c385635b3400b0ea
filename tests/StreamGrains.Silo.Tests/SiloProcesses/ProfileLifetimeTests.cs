using System.Text.Json;
using StreamGrains.Events;
using StreamGrains.Silo.Tests.Infrastructure;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary>Idle profiles deactivate after StreamGrains:Profiles:IdleTimeout and come back from grain storage.</summary>
public sealed class ProfileLifetimeTests
{
    [Fact]
    public async Task An_idle_profile_is_deactivated_and_comes_back_from_storage_with_its_state()
    {
        await using var silo = SiloProcess.Start("--demo", "false", "--partitions", "2", "--StreamGrains:Profiles:IdleTimeout", "00:00:10");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var bootstrap = (await silo.GetInfoAsync()).GetProperty("kafka").GetProperty("bootstrapServers").GetString()!;
        var t0 = DateTimeOffset.UtcNow;
        await KafkaIo.ProduceAsync(bootstrap, Enumerable.Range(0, 20).Select(i => new StreamEvent
        {
            Id = $"idle-{i}", Entity = $"idle-{i % 4}", Type = "visit", Timestamp = t0.AddSeconds(i), Value = i,
        }));

        await Eventually.TrueAsync(async () => (await StatsAsync(silo)).GetProperty("eventsProcessed").GetInt64() == 20, TimeSpan.FromSeconds(30));
        Assert.Equal(4, (await StatsAsync(silo)).GetProperty("activeProfiles").GetInt64());

        // Nothing for them for longer than the idle timeout (and the collector's quantum): they go.
        await Eventually.TrueAsync(async () => (await StatsAsync(silo)).GetProperty("activeProfiles").GetInt64() == 0, TimeSpan.FromSeconds(60));

        // Asked again, each comes back with what it had.
        using var response = await silo.Http.GetAsync(new Uri("/api/profiles/idle-1", UriKind.Relative));
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}\n{silo.Process.Output}");
        var profile = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(5, profile.GetProperty("count").GetInt32());
        Assert.Equal(1 + 5 + 9 + 13 + 17, profile.GetProperty("sum").GetDouble());
        Assert.Equal(1, (await StatsAsync(silo)).GetProperty("activeProfiles").GetInt64());
    }

    private static async Task<JsonElement> StatsAsync(SiloProcess silo) =>
        JsonDocument.Parse(await silo.Http.GetStringAsync(new Uri("/api/stats", UriKind.Relative))).RootElement.GetProperty("silo");
}
