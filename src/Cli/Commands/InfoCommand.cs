using System.Globalization;
using Spectre.Console;
using StreamGrains.Client;

namespace StreamGrains.Cli.Commands;

/// <summary><c>streamgrains info</c>.</summary>
internal sealed class InfoCommand : ClientCommand<ClientSettings>
{
    protected override async Task<int> RunAsync(StreamGrainsClient client, ClientSettings settings, CancellationToken cancellationToken)
    {
        var info = await client.GetInfoAsync(cancellationToken).ConfigureAwait(false);
        if (settings.Json)
        {
            WriteJson(info);
            return 0;
        }

        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"StreamGrains [bold]{info.Version}[/], silo {info.SiloAddress}, cluster '{info.ClusterId}', storage {info.Storage}");
        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"Kafka {info.Kafka.BootstrapServers} ({(info.Kafka.Embedded ? "embedded" : "external")}), group '{info.Kafka.ConsumerGroup}'");
        var table = new Table().AddColumns("topic", "partition", "owner", "state", "offset", "lag");
        foreach (var p in info.Kafka.Partitions)
        {
            table.AddRow(Markup.Escape(p.Topic), p.Partition.ToString(CultureInfo.InvariantCulture), Markup.Escape(p.Owner ?? "-"), p.State, Convert.ToString(p.CurrentOffset, CultureInfo.InvariantCulture) ?? "-", Convert.ToString(p.Lag, CultureInfo.InvariantCulture) ?? "-");
        }

        AnsiConsole.Write(table);
        return 0;
    }
}
