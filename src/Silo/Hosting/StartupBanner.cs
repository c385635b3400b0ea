using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using StreamGrains.Silo.Api;
using StreamGrains.Silo.Configuration;
using StreamGrains.Silo.Kafka;

namespace StreamGrains.Silo.Hosting;

/// <summary>Prints where everything is once the host has started: HTTP, the dashboard, Kafka, the demo.</summary>
internal sealed class StartupBanner(
    IHostApplicationLifetime lifetime,
    IServer server,
    ILocalSiloDetails silo,
    KafkaEnvironment kafka,
    IOptions<StreamGrainsOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => Console.Out.Write(Render()));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    internal string Render()
    {
        var http = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "(no HTTP address)";
        var settings = options.Value;
        var demoOn = settings.Demo.Enabled ?? kafka.IsEmbedded;
        var text = new StringBuilder()
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"StreamGrains {InfoEndpoints.Version}: silo {silo.SiloAddress.ToParsableString()} in cluster '{silo.ClusterId}' is up")
            .AppendLine(CultureInfo.InvariantCulture, $"  HTTP:       {http}   (health: {http}/health/ready, info: {http}/api/info)")
            .AppendLine(CultureInfo.InvariantCulture, $"  Dashboard:  {http}/dashboard/")
            .AppendLine(CultureInfo.InvariantCulture, $"  API:        {http}/api-docs ({(settings.Api.Keys.Count == 0 ? "open: no API key configured (StreamGrains:Api:Keys)" : $"API keys required: {settings.Api.Keys.Count} configured")})")
            .AppendLine(CultureInfo.InvariantCulture, $"  Kafka:      {kafka.BootstrapServers} ({(kafka.IsEmbedded ? $"embedded, {kafka.EmbeddedBrokerCount} broker(s), {settings.Kafka.Partitions} partitions" : "external")})")
            .AppendLine(CultureInfo.InvariantCulture, $"  Topics:     {string.Join(", ", kafka.Topics)}; consumer group '{kafka.ConsumerGroup}'")
            .AppendLine(CultureInfo.InvariantCulture, $"  Storage:    {settings.Storage.ParsedKind}")
            .AppendLine(CultureInfo.InvariantCulture, $"  Demo:       {(demoOn ? $"on, {settings.Demo.EventsPerSecond} events/s into '{kafka.InputTopic}' (--demo false to stop it)" : "off")}")
            .AppendLine();
        return text.ToString();
    }
}
