using System.Text.Json;
using StreamGrains.Silo.Tests.Infrastructure;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary>The <c>streamgrains</c> command line against a silo process, as a user runs it.</summary>
public sealed class CliTests
{
    [Fact]
    public async Task Produce_then_read_profiles_alerts_windows_sessions_stats_and_info_and_follow_alerts_live()
    {
        await using var silo = SiloProcess.Start(
            "--demo", "false", "--partitions", "2",
            "--StreamGrains:Rules:big:Kind", "Threshold", "--StreamGrains:Rules:big:Above", "900",
            "--StreamGrains:Aggregations:pay:EventTypes:0", "payment", "--StreamGrains:Aggregations:pay:Window:Kind", "Tumbling", "--StreamGrains:Aggregations:pay:Window:Size", "00:00:10",
            "--StreamGrains:Aggregations:visits:EventTypes:0", "payment", "--StreamGrains:Aggregations:visits:Window:Kind", "Session", "--StreamGrains:Aggregations:visits:Window:Gap", "00:01:00");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var url = silo.BaseAddress.ToString();

        // Follow decisions live while producing.
        await using var follow = ChildProcess.StartDll(RepositoryPaths.CliDll, ["alerts", "--follow", "--json", "--rule", "big", "--url", url]);
        await Task.Delay(1_500);

        var (code, output) = await RunAsync("produce", "--rate", "400", "--entities", "20", "--duration", "2s", "--seed", "5", "--json", "--url", url);
        Assert.Equal(0, code);
        var produced = JsonDocument.Parse(output).RootElement;
        Assert.Equal(800, produced.GetProperty("sent").GetInt64());
        Assert.Equal(0, produced.GetProperty("spilled").GetInt64());

        var live = JsonDocument.Parse("{" + await follow.WaitForLineAsync("{", TimeSpan.FromSeconds(30))).RootElement;
        Assert.Equal("big", live.GetProperty("rule").GetString());
        Assert.StartsWith("cli-", live.GetProperty("entity").GetString(), StringComparison.Ordinal);

        // Statistics catch up with the 800 events.
        await Eventually.TrueAsync(async () =>
        {
            var (statsCode, stats) = await RunAsync("stats", "--json", "--url", url);
            return statsCode == 0 && JsonDocument.Parse(stats).RootElement.GetProperty("silo").GetProperty("eventsProcessed").GetInt64() == 800;
        }, TimeSpan.FromSeconds(30));

        // A profile, as JSON and as a table; an unknown one exits 4.
        var (profileCode, profile) = await RunAsync("profile", "cli-3", "--json", "--url", url);
        Assert.Equal(0, profileCode);
        Assert.True(JsonDocument.Parse(profile).RootElement.GetProperty("count").GetInt64() > 0);
        var (tableCode, table) = await RunAsync("profile", "cli-3", "--url", url);
        Assert.Equal(0, tableCode);
        Assert.Contains("anomaly score", table, StringComparison.Ordinal);
        Assert.Equal(4, (await RunAsync("profile", "nobody", "--url", url)).Code);

        // Recent decisions agree with what followed live.
        var (alertsCode, alerts) = await RunAsync("alerts", "--rule", "big", "--limit", "1000", "--json", "--url", url);
        Assert.Equal(0, alertsCode);
        Assert.Contains(JsonDocument.Parse(alerts).RootElement.EnumerateArray(), d => d.GetProperty("eventId").GetString() == live.GetProperty("eventId").GetString());

        // Windows and sessions of a produced entity; top keys; the silo's description.
        var (windowsCode, windows) = await RunAsync("aggregates", "pay", "cli-3", "--json", "--url", url);
        Assert.Equal(0, windowsCode);
        Assert.True(JsonDocument.Parse(windows).RootElement.GetProperty("windows").EnumerateArray().Sum(w => w.GetProperty("count").GetInt64()) > 0);
        var (sessionsCode, sessions) = await RunAsync("sessions", "visits", "cli-3", "--json", "--url", url);
        Assert.Equal(0, sessionsCode);
        Assert.Single(JsonDocument.Parse(sessions).RootElement.GetProperty("sessions").EnumerateArray());
        Assert.Equal(0, (await RunAsync("top", "pay", "--top", "3", "--json", "--url", url)).Code);
        var (infoCode, info) = await RunAsync("info", "--url", url);
        Assert.Equal(0, infoCode);
        Assert.Contains("events", info, StringComparison.Ordinal);

        // Bad input is refused with the setting named.
        var (badCode, bad) = await RunAsync("produce", "--duration", "soon", "--url", url);
        Assert.NotEqual(0, badCode);
        Assert.Contains("--duration", bad, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Output)> RunAsync(params string[] arguments)
    {
        await using var cli = ChildProcess.StartDll(RepositoryPaths.CliDll, arguments);
        var code = await cli.WaitForExitAsync(TimeSpan.FromSeconds(60));
        await Task.Delay(100); // the last lines of output
        return (code, cli.Output + cli.Errors);
    }
}
