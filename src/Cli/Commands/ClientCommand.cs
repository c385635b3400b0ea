using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Cli;
using StreamGrains.Client;

namespace StreamGrains.Cli.Commands;

/// <summary>A command that calls the API: makes the client, and turns refusals into a message and exit code 1.</summary>
internal abstract class ClientCommand<TSettings> : AsyncCommand<TSettings>
    where TSettings : ClientSettings
{
    /// <summary>Exit code: the API refused the call or could not be reached.</summary>
    public const int Failed = 1;

    /// <summary>Exit code: the entity, key or aggregation does not exist.</summary>
    public const int NotFound = 4;

    private static readonly JsonSerializerOptions Indented = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public sealed override async Task<int> ExecuteAsync(CommandContext context, TSettings settings, CancellationToken cancellationToken)
    {
        var client = settings.CreateClient();
        await using (client.ConfigureAwait(false))
        {
            return await RunGuardedAsync(client, settings, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<int> RunGuardedAsync(StreamGrainsClient client, TSettings settings, CancellationToken cancellationToken)
    {
        try
        {
            return await RunAsync(client, settings, cancellationToken).ConfigureAwait(false);
        }
        catch (StreamGrainsApiException ex)
        {
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[red]{ex.Message}[/]");
            return ex.Status == System.Net.HttpStatusCode.NotFound ? NotFound : Failed;
        }
        catch (HttpRequestException ex)
        {
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[red]Cannot reach the API: {ex.Message}[/]");
            return Failed;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0; // Ctrl+C
        }
    }

    protected abstract Task<int> RunAsync(StreamGrainsClient client, TSettings settings, CancellationToken cancellationToken);

    /// <summary>Prints <paramref name="value"/> as JSON.</summary>
    protected static void WriteJson<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Indented));

    /// <summary>Says that something does not exist, and gives the exit code for it.</summary>
    protected static int Missing(string what)
    {
        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[yellow]{what}[/]");
        return NotFound;
    }
}
