using System.ComponentModel;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;
using StreamGrains.Client;

namespace StreamGrains.Cli.Commands;

/// <summary><c>streamgrains top &lt;aggregation&gt; [--top N]</c>.</summary>
internal sealed class TopCommand : ClientCommand<TopCommand.Settings>
{
    internal sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "<aggregation>")]
        [Description("The aggregation's name.")]
        public string Aggregation { get; init; } = string.Empty;

        [CommandOption("--top <N>")]
        [Description("How many keys (1 to 1000, default 10).")]
        public int Top { get; init; } = 10;

        public override ValidationResult Validate() =>
            Top is < 1 or > 1000 ? ValidationResult.Error($"--top must be 1 to 1000, was {Top}.") : base.Validate();
    }

    protected override async Task<int> RunAsync(StreamGrainsClient client, Settings settings, CancellationToken cancellationToken)
    {
        var top = await client.GetTopAsync(settings.Aggregation, settings.Top, cancellationToken).ConfigureAwait(false);
        if (settings.Json)
        {
            WriteJson(top);
            return 0;
        }

        var table = new Table().AddColumns("key", "count")
            .Title(Markup.Escape(top.WindowStart is { } start ? $"{top.Aggregation}: {start:O} to {top.WindowEnd:O}" : $"{top.Aggregation}: no final window yet"));
        foreach (var key in top.Keys)
        {
            table.AddRow(Markup.Escape(key.Key), key.Count.ToString(CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
        return 0;
    }
}
