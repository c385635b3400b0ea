using System.Globalization;
using Spectre.Console;
using StreamGrains.Api;
using StreamGrains.Client;

namespace StreamGrains.Cli.Commands;

/// <summary><c>streamgrains stats</c>.</summary>
internal sealed class StatsCommand : ClientCommand<ClientSettings>
{
    protected override async Task<int> RunAsync(StreamGrainsClient client, ClientSettings settings, CancellationToken cancellationToken)
    {
        var stats = await client.GetStatsAsync(cancellationToken).ConfigureAwait(false);
        if (settings.Json)
        {
            WriteJson(stats);
            return 0;
        }

        var table = new Table().AddColumns("", "this silo", $"cluster ({stats.Silos} silos)");
        void Row(string name, Func<StatsInfo, object?> value) =>
            table.AddRow(name, Markup.Escape(Convert.ToString(value(stats.Silo), CultureInfo.InvariantCulture) ?? "-"), Markup.Escape(Convert.ToString(value(stats.Cluster), CultureInfo.InvariantCulture) ?? "-"));
        Row("events processed", s => s.EventsProcessed);
        Row("decisions", s => s.Decisions);
        Row("dead letters", s => s.DeadLetters);
        Row("decision latency p50 (ms)", s => s.DecisionLatencyMs.P50?.ToString("G4", CultureInfo.InvariantCulture));
        Row("decision latency p99 (ms)", s => s.DecisionLatencyMs.P99?.ToString("G4", CultureInfo.InvariantCulture));
        Row("active profiles", s => s.ActiveProfiles);
        Row("replays skipped", s => s.ReplaysSkipped);
        AnsiConsole.Write(table);
        return 0;
    }
}
