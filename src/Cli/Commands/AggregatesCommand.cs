using System.ComponentModel;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;
using StreamGrains.Client;

namespace StreamGrains.Cli.Commands;

/// <summary><c>streamgrains aggregates &lt;aggregation&gt; &lt;key&gt; [--from] [--to]</c>.</summary>
internal sealed class AggregatesCommand : ClientCommand<AggregatesCommand.Settings>
{
    internal sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "<aggregation>")]
        [Description("The aggregation's name.")]
        public string Aggregation { get; init; } = string.Empty;

        [CommandArgument(1, "<key>")]
        [Description("The group key.")]
        public string Key { get; init; } = string.Empty;

        [CommandOption("--from <TIME>")]
        [Description("Only windows ending after this (RFC 3339).")]
        public DateTimeOffset? From { get; init; }

        [CommandOption("--to <TIME>")]
        [Description("Only windows starting before this (RFC 3339).")]
        public DateTimeOffset? To { get; init; }
    }

    protected override async Task<int> RunAsync(StreamGrainsClient client, Settings settings, CancellationToken cancellationToken)
    {
        var windows = await client.GetWindowsAsync(settings.Aggregation, settings.Key, settings.From, settings.To, cancellationToken).ConfigureAwait(false);
        if (windows is null)
        {
            return Missing($"Aggregation '{settings.Aggregation}' holds no window of '{settings.Key}'.");
        }

        if (settings.Json)
        {
            WriteJson(windows);
            return 0;
        }

        var table = new Table().AddColumns("start", "end", "count", "sum", "avg", "min", "max", "p99", "final");
        foreach (var w in windows.Windows)
        {
            table.AddRow(
                $"{w.Start:O}", $"{w.End:O}", w.Count.ToString(CultureInfo.InvariantCulture), Number(w.Sum), Number(w.Avg), Number(w.Min), Number(w.Max), Number(w.P99), w.Final ? "yes" : "open");
        }

        AnsiConsole.Write(table);
        return 0;
    }

    private static string Number(double? value) => value?.ToString("G6", CultureInfo.InvariantCulture) ?? "-";
}
