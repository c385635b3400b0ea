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

    [Fact]
    public async Task Profiles_that_took_their_events_hold_no_timers_so_a_silo_of_many_profiles_does_not_spend_itself_on_ticks()
    {
        // A periodic timer per profile (a checkpoint every 10 s, a context refresh every minute) costs a grain call per
        // tick: with 400,000 profiles that was 40,000 calls a second and activations slowed to a few hundred a second.
        const int profiles = 3_000;
        var contextFile = Path.GetTempFileName(); // empty: no entity has context, but the source refreshes
        await using var silo = SiloProcess.Start("--demo", "false", "--partitions", "2", "--StreamGrains:Profiles:CheckpointInterval", "00:00:01",
            "--StreamGrains:Context:Kind", "File", "--StreamGrains:Context:Path", contextFile, "--StreamGrains:Context:RefreshInterval", "00:00:02");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var bootstrap = (await silo.GetInfoAsync()).GetProperty("kafka").GetProperty("bootstrapServers").GetString()!;
        var timersBefore = await TimersAsync(silo);
        var t0 = DateTimeOffset.UtcNow;
        await KafkaIo.ProduceAsync(bootstrap, Enumerable.Range(0, profiles).Select(i => new StreamEvent
        {
            Id = $"many-{i}", Entity = $"many-{i}", Type = "visit", Timestamp = t0, Value = i,
        }));
        await Eventually.TrueAsync(async () => (await StatsAsync(silo)).GetProperty("eventsProcessed").GetInt64() == profiles, TimeSpan.FromSeconds(60));

        // Past the checkpoint interval (each profile wrote its state once) and the refresh interval.
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.Equal(profiles, (await StatsAsync(silo)).GetProperty("activeProfiles").GetInt64());
        var timers = await TimersAsync(silo);
        Assert.True(timers - timersBefore < profiles / 10, $"{timers - timersBefore} more timers than before, with {profiles} quiet profiles active");

        // Refreshed on use instead: a profile asked after the refresh interval still answers, with its state.
        var profile = JsonDocument.Parse(await silo.Http.GetStringAsync(new Uri("/api/profiles/many-7", UriKind.Relative))).RootElement;
        Assert.Equal(7, profile.GetProperty("sum").GetDouble());
        File.Delete(contextFile);
    }

    /// <summary>The process's active timers (.NET's <c>dotnet.timer.count</c>, exported at /metrics).</summary>
    private static async Task<long> TimersAsync(SiloProcess silo)
    {
        var metrics = await silo.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        var line = metrics.Split('\n').Single(l => l.StartsWith("dotnet_timer_count", StringComparison.Ordinal));
        return (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<JsonElement> StatsAsync(SiloProcess silo) =>
        JsonDocument.Parse(await silo.Http.GetStringAsync(new Uri("/api/stats", UriKind.Relative))).RootElement.GetProperty("silo");
}
