using System.ComponentModel;
using System.Globalization;
using System.Text;
using Spectre.Console;
using Spectre.Console.Cli;
using StreamGrains.Client;
using StreamGrains.Decisions;

namespace StreamGrains.Cli.Commands;

/// <summary><c>streamgrains alerts [--entity] [--rule] [--limit] [--follow]</c>.</summary>
internal sealed class AlertsCommand : ClientCommand<AlertsCommand.Settings>
{
    internal sealed class Settings : ClientSettings
    {
        [CommandOption("--entity <ENTITY>")]
        [Description("Only decisions about this entity.")]
        public string? Entity { get; init; }

        [CommandOption("--rule <RULE>")]
        [Description("Only decisions of this rule.")]
        public string? Rule { get; init; }

        [CommandOption("--limit <N>")]
        [Description("At most this many recent decisions (1 to 1000, default 20).")]
        public int Limit { get; init; } = 20;

        [CommandOption("-f|--follow")]
        [Description("Then keep printing decisions as they are made, until Ctrl+C.")]
        public bool Follow { get; init; }

        public override ValidationResult Validate() =>
            Limit is < 1 or > 1000 ? ValidationResult.Error($"--limit must be 1 to 1000, was {Limit}.") : base.Validate();
    }

    protected override async Task<int> RunAsync(StreamGrainsClient client, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.Follow)
        {
            // Live only: one line per decision (JSON lines with --json), flushed as it comes.
            await foreach (var decision in client.StreamAlertsAsync(settings.Entity, settings.Rule, cancellationToken).ConfigureAwait(false))
            {
                if (settings.Json)
                {
                    Console.Out.WriteLine(Encoding.UTF8.GetString(DecisionJson.Serialize(decision)));
                }
                else
                {
                    AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"{decision.DecidedAt:HH:mm:ss.fff} [bold]{decision.Rule}[/] {decision.Action} {decision.Entity} {decision.EventId} ({decision.EventType})");
                }

                await Console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            return 0;
        }

        var decisions = await client.GetAlertsAsync(settings.Entity, settings.Rule, settings.Limit, cancellationToken).ConfigureAwait(false);
        if (settings.Json)
        {
            Console.Out.WriteLine("[" + string.Join(",", decisions.Select(d => Encoding.UTF8.GetString(DecisionJson.Serialize(d)))) + "]");
            return 0;
        }

        var table = new Table().AddColumns("decided", "rule", "action", "entity", "event", "type");
        foreach (var d in decisions)
        {
            table.AddRow(Markup.Escape($"{d.DecidedAt:O}"), Markup.Escape(d.Rule), d.Action.ToString(), Markup.Escape(d.Entity), Markup.Escape(d.EventId ?? string.Empty), Markup.Escape(d.EventType));
        }

        AnsiConsole.Write(table);
        return 0;
    }
}
