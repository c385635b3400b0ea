using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using StreamGrains.Client;

namespace StreamGrains.Cli.Commands;

/// <summary>What every command takes: where the API is, the key, and the output format.</summary>
internal class ClientSettings : CommandSettings
{
    [CommandOption("--url <URL>")]
    [Description("The API: a silo or the load balancer (default $STREAMGRAINS_URL, else http://localhost:5000).")]
    public string? Url { get; init; }

    [CommandOption("--api-key <KEY>")]
    [Description("The API key (default $STREAMGRAINS_API_KEY); none for an open cluster.")]
    public string? ApiKey { get; init; }

    [CommandOption("--json")]
    [Description("Print JSON instead of tables.")]
    public bool Json { get; init; }

    public override ValidationResult Validate() =>
        Uri.TryCreate(BaseUrl, UriKind.Absolute, out _) ? ValidationResult.Success() : ValidationResult.Error($"--url: '{BaseUrl}' is not an absolute URL.");

    private string BaseUrl => Url ?? Environment.GetEnvironmentVariable("STREAMGRAINS_URL") ?? "http://localhost:5000";

    /// <summary>A client for these settings.</summary>
    public StreamGrainsClient CreateClient() => StreamGrainsClient.Create(new StreamGrainsClientOptions
    {
        BaseAddress = new Uri(BaseUrl),
        ApiKey = ApiKey ?? Environment.GetEnvironmentVariable("STREAMGRAINS_API_KEY"),
    });
}
