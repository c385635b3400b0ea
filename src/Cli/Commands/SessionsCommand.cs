using System.ComponentModel;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;
using StreamGrains.Client;

namespace StreamGrains.Cli.Commands;

/// <summary><c>streamgrains sessions &lt;aggregation&gt; &lt;key&gt;</c>.</summary>
internal sealed class SessionsCommand : ClientCommand<SessionsCommand.Settings>
{
    internal sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "<aggregation>")]
        [Description("The session aggregation's name.")]
        public string Aggregation { get; init; } = string.Empty;

        [CommandArgument(1, "<key>")]
        [Description("The group key.")]
        public string Key { get; init; } = string.Empty;
    }

    protected override async Task<int> RunAsync(StreamGrainsClient client, Settings settings, CancellationToken cancellationToken)
    {
        var sessions = await client.GetSessionsAsync(settings.Aggregation, settings.Key, cancellationToken).ConfigureAwait(false);
        if (sessions is null)
        {
            return Missing($"Aggregation '{settings.Aggregation}' holds no session of '{settings.Key}'.");
        }

        if (settings.Json)
        {
            WriteJson(sessions);
            return 0;
        }

        var table = new Table().AddColumns("start", "end", "events", "duration", "types", "closed");
        foreach (var s in sessions.Sessions)
        {
            table.AddRow($"{s.Start:O}", $"{s.End:O}", s.Count.ToString(CultureInfo.InvariantCulture), TimeSpan.FromMilliseconds(s.DurationMs).ToString("c", CultureInfo.InvariantCulture), Markup.Escape(string.Join(", ", s.Types)), s.Closed ? "yes" : "open");
        }

        AnsiConsole.Write(table);
        return 0;
    }
}
