using System.ComponentModel;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;
using StreamGrains.Client;

namespace StreamGrains.Cli.Commands;

/// <summary><c>streamgrains profile &lt;entity&gt;</c>.</summary>
internal sealed class ProfileCommand : ClientCommand<ProfileCommand.Settings>
{
    internal sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "<entity>")]
        [Description("The entity.")]
        public string Entity { get; init; } = string.Empty;
    }

    protected override async Task<int> RunAsync(StreamGrainsClient client, Settings settings, CancellationToken cancellationToken)
    {
        var profile = await client.GetProfileAsync(settings.Entity, cancellationToken).ConfigureAwait(false);
        if (profile is null)
        {
            return Missing($"No profile of '{settings.Entity}': the cluster has not seen it.");
        }

        if (settings.Json)
        {
            WriteJson(profile);
            return 0;
        }

        var table = new Table().AddColumns("field", "value");
        void Row(string name, object? value) => table.AddRow(Markup.Escape(name), Markup.Escape(Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty));
        Row("entity", profile.Entity);
        Row("events", profile.Count);
        Row("sum / mean / stddev", $"{profile.Sum:G6} / {profile.Mean:G6} / {profile.StdDev:G6}");
        Row("min / max", $"{profile.Min} / {profile.Max}");
        Row("first / last event", $"{profile.FirstEventTime:O} / {profile.LastEventTime:O}");
        Row("by type", string.Join(", ", profile.CountsByType.Select(t => $"{t.Key} {t.Value}")));
        Row("anomaly score", profile.AnomalyScore.ToString("G4", CultureInfo.InvariantCulture));
        Row("flags", string.Join(", ", profile.Flags));
        Row("decisions", string.Join(", ", profile.DecisionsByRule.Select(d => $"{d.Key} {d.Value}")));
        Row("context", string.Join(", ", profile.Context.Select(c => $"{c.Key}={c.Value}")));
        Row("partition / silo", $"{profile.Partition} / {profile.Silo}");
        AnsiConsole.Write(table);
        return 0;
    }
}
