using System.Net;
using System.Net.Sockets;
using Confluent.Kafka;
using StreamGrains.Silo.Configuration;
using StreamGrains.Silo.Kafka;

namespace StreamGrains.Silo.Hosting;

/// <summary>
/// What must hold before anything starts, each failure a message that names the setting to change: the silo's ports
/// are free, and an external Kafka answers and has the platform's topics. Without them the silo would start two silos
/// on one port (Orleans' listener shares it), or crash after a long timeout with a stack trace.
/// </summary>
internal static class StartupChecks
{
    /// <summary>Ports that another process already listens on.</summary>
    public static IReadOnlyList<string> PortsInUse(StreamGrainsOptions options, IConfiguration configuration)
    {
        var errors = new List<string>();
        if (!IsFree(options.Cluster.SiloPort))
        {
            errors.Add($"{StreamGrainsOptions.SectionName}:Cluster:SiloPort: port {options.Cluster.SiloPort} is in use (another silo?); choose another with --silo-port.");
        }

        if (!IsFree(options.Cluster.GatewayPort))
        {
            errors.Add($"{StreamGrainsOptions.SectionName}:Cluster:GatewayPort: port {options.Cluster.GatewayPort} is in use (another silo?); choose another with --gateway-port.");
        }

        foreach (var (setting, url) in HttpEndpoints(configuration))
        {
            if (Uri.TryCreate(url.Replace("*", "localhost", StringComparison.Ordinal).Replace("+", "localhost", StringComparison.Ordinal), UriKind.Absolute, out var uri) && uri.Port > 0 && !IsFree(uri.Port))
            {
                errors.Add(setting == "urls"
                    ? $"urls: port {uri.Port} of {url} is in use (another silo?); choose another with --urls http://localhost:<port>."
                    : $"{setting}: port {uri.Port} of {url} is in use (another silo?); choose another there, or with --urls http://localhost:<port>.");
            }
        }

        return errors;
    }

    /// <summary>An external Kafka that does not answer, or lacks one of the platform's topics.</summary>
    public static IReadOnlyList<string> KafkaProblems(KafkaEnvironment kafka, TimeSpan timeout)
    {
        if (kafka.IsEmbedded)
        {
            return []; // the embedded broker is up and its topics were created with it
        }

        using var admin = new AdminClientBuilder(kafka.AdminConfig("streamgrains-startup")).SetLogHandler((_, _) => { }).Build();
        Metadata metadata;
        try
        {
            // Every topic at once: asking for one by name may make a broker create it.
            metadata = admin.GetMetadata(timeout);
        }
        catch (KafkaException ex)
        {
            return [$"{StreamGrainsOptions.SectionName}:Kafka:BootstrapServers: no Kafka broker answered at {kafka.BootstrapServers} within {timeout.TotalSeconds:0} s ({ex.Error.Reason}). Is Kafka up?"];
        }

        var existing = metadata.Topics.Where(t => !t.Error.IsError).Select(t => t.Topic).ToHashSet(StringComparer.Ordinal);
        var missing = kafka.Topics.Where(t => !existing.Contains(t)).ToList();
        return missing.Count == 0
            ? []
            : [$"{StreamGrainsOptions.SectionName}:Kafka: the topic(s) {string.Join(", ", missing)} do not exist at {kafka.BootstrapServers}; create them first (the platform needs {string.Join(", ", kafka.Topics)})."];
    }

    /// <summary>
    /// The HTTP endpoints Kestrel will listen on, each with the setting it comes from, in Kestrel's order of precedence:
    /// <c>Kestrel:Endpoints</c>, else <c>urls</c> (<c>--urls</c>, <c>ASPNETCORE_URLS</c>), else <c>http_ports</c> and
    /// <c>https_ports</c> (<c>ASPNETCORE_HTTP_PORTS</c>...), else http://localhost:5000.
    /// </summary>
    internal static IReadOnlyList<(string Setting, string Url)> HttpEndpoints(IConfiguration configuration)
    {
        var endpoints = configuration.GetSection("Kestrel:Endpoints").GetChildren()
            .Where(e => !string.IsNullOrWhiteSpace(e["Url"]))
            .Select(e => ($"Kestrel:Endpoints:{e.Key}:Url", e["Url"]!))
            .ToList();
        if (endpoints.Count > 0)
        {
            return endpoints;
        }

        static string[] Split(string value) => value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (configuration["urls"] is { } urls && !string.IsNullOrWhiteSpace(urls))
        {
            return Split(urls).Select(url => ("urls", url)).ToList();
        }

        var ports = Split(configuration["http_ports"] ?? string.Empty).Select(port => ("http_ports", $"http://*:{port}"))
            .Concat(Split(configuration["https_ports"] ?? string.Empty).Select(port => ("https_ports", $"https://*:{port}")))
            .ToList();
        return ports.Count > 0 ? ports : [("urls", "http://localhost:5000")];
    }

    private static bool IsFree(int port)
    {
        // Without SO_REUSEPORT, so that a listener that set it (as Orleans' does) still makes the bind fail.
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Any, port));
            socket.Listen(1);
            return true;
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
        {
            return false;
        }
    }
}
