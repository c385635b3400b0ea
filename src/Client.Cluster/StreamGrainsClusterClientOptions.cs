using System.Net;

namespace StreamGrains.Client.Cluster;

/// <summary>
/// How a service inside the cluster reaches it: the Orleans cluster (by its gateways, or by the PostgreSQL membership
/// table the silos share) and, to publish, Kafka and a local directory for the spill log.
/// </summary>
public sealed class StreamGrainsClusterClientOptions
{
    /// <summary>The cluster's id (the silos' <c>StreamGrains:Cluster:ClusterId</c>).</summary>
    public string ClusterId { get; set; } = "streamgrains";

    /// <summary>The cluster's service id (the silos' <c>StreamGrains:Cluster:ServiceId</c>).</summary>
    public string ServiceId { get; set; } = "streamgrains";

    /// <summary>
    /// The silos' gateways as <c>host:port</c> (their <c>StreamGrains:Cluster:GatewayPort</c>), for silos on localhost
    /// clustering (the embedded defaults). Give either these or <see cref="ClusteringConnectionString"/>.
    /// </summary>
    public IList<string> Gateways { get; } = [];

    /// <summary>
    /// The PostgreSQL database whose membership table the silos share (their <c>ConnectionStrings:StreamGrains</c> with
    /// <c>Storage:Kind</c> <c>Postgres</c>): the client finds the live gateways there.
    /// </summary>
    public string? ClusteringConnectionString { get; set; }

    /// <summary>The Kafka brokers to publish to (the silos' <c>Kafka:BootstrapServers</c>). Empty: this client does not publish.</summary>
    public string? KafkaBootstrapServers { get; set; }

    /// <summary>Further librdkafka properties of the producer (security, for instance).</summary>
    public IDictionary<string, string> KafkaProperties { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The topic events are published to (the silos' <c>Kafka:InputTopic</c>).</summary>
    public string InputTopic { get; set; } = "events";

    /// <summary>
    /// Where published events wait while Kafka is away: a directory of this process's own, on a disk that outlives it
    /// (they are sent from there after a restart). Required with <see cref="KafkaBootstrapServers"/>.
    /// </summary>
    public string? SpillDirectory { get; set; }

    /// <summary>How long Kafka may take to acknowledge an event before it goes to the spill log.</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The most bytes the spill log may hold; while Kafka is away and it is full, a publish is refused whole (503).</summary>
    public long MaxSpillBytes { get; set; } = 1L << 30;

    /// <summary>The most events one <c>PublishAsync</c> takes.</summary>
    public int MaxEventsPerPublish { get; set; } = 10_000;

    /// <summary>The options' errors, each naming its option; empty when they are fine.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(ClusterId))
        {
            errors.Add($"{nameof(ClusterId)} is empty: give the silos' StreamGrains:Cluster:ClusterId.");
        }

        if (string.IsNullOrWhiteSpace(ServiceId))
        {
            errors.Add($"{nameof(ServiceId)} is empty: give the silos' StreamGrains:Cluster:ServiceId.");
        }

        var table = !string.IsNullOrWhiteSpace(ClusteringConnectionString);
        if (Gateways.Count > 0 == table)
        {
            errors.Add(table
                ? $"Give either {nameof(Gateways)} or {nameof(ClusteringConnectionString)}, not both."
                : $"Give {nameof(Gateways)} (host:port of the silos' gateways) or {nameof(ClusteringConnectionString)} (the silos' PostgreSQL membership table).");
        }

        foreach (var gateway in Gateways)
        {
            if (!TrySplitGateway(gateway, out _, out _))
            {
                errors.Add($"{nameof(Gateways)}: '{gateway}' is not host:port (e.g. localhost:30000).");
            }
        }

        if (!string.IsNullOrWhiteSpace(KafkaBootstrapServers) && string.IsNullOrWhiteSpace(SpillDirectory))
        {
            errors.Add($"{nameof(SpillDirectory)} is empty: a client that publishes ({nameof(KafkaBootstrapServers)} is set) needs a directory of its own for its spill log.");
        }

        if (string.IsNullOrWhiteSpace(InputTopic))
        {
            errors.Add($"{nameof(InputTopic)} is empty: give the silos' Kafka:InputTopic.");
        }

        if (PublishTimeout < TimeSpan.FromMilliseconds(100) || PublishTimeout > TimeSpan.FromMinutes(10))
        {
            errors.Add($"{nameof(PublishTimeout)} is {PublishTimeout}: it must be from 100 ms to 10 minutes.");
        }

        if (MaxSpillBytes < 1L << 20)
        {
            errors.Add($"{nameof(MaxSpillBytes)} is {MaxSpillBytes}: it must be at least 1048576 (1 MiB).");
        }

        if (MaxEventsPerPublish < 1)
        {
            errors.Add($"{nameof(MaxEventsPerPublish)} is {MaxEventsPerPublish}: it must be at least 1.");
        }

        return errors;
    }

    /// <summary>Splits <c>host:port</c>; false when it is not that.</summary>
    internal static bool TrySplitGateway(string gateway, out string host, out int port)
    {
        host = string.Empty;
        port = 0;
        var colon = gateway.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(gateway.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
        {
            return false;
        }

        host = gateway[..colon].Trim('[', ']');
        return host.Length > 0;
    }

    /// <summary>A gateway's endpoint, its host name resolved (IPv4 first).</summary>
    /// <exception cref="InvalidOperationException">The name does not resolve; the message names the option.</exception>
    internal static IPEndPoint ResolveGateway(string gateway)
    {
        if (!TrySplitGateway(gateway, out var host, out var port))
        {
            throw new InvalidOperationException($"{nameof(Gateways)}: '{gateway}' is not host:port (e.g. localhost:30000).");
        }

        if (IPAddress.TryParse(host, out var address))
        {
            return new IPEndPoint(address, port);
        }

        try
        {
            var addresses = Dns.GetHostAddresses(host);
            var chosen = addresses.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) ?? addresses.FirstOrDefault();
            return chosen is null
                ? throw new InvalidOperationException($"{nameof(Gateways)}: '{host}' resolves to no address.")
                : new IPEndPoint(chosen, port);
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            throw new InvalidOperationException($"{nameof(Gateways)}: '{host}' does not resolve ({ex.Message}).", ex);
        }
    }
}
