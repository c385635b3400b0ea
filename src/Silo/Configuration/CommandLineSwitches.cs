namespace StreamGrains.Silo.Configuration;

/// <summary>Short command-line switches for the settings people change most; every setting also takes its full key.</summary>
internal static class CommandLineSwitches
{
    public static IDictionary<string, string> Mappings { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["--demo"] = "StreamGrains:Demo:Enabled",
        ["--demo-rate"] = "StreamGrains:Demo:EventsPerSecond",
        ["--kafka"] = "StreamGrains:Kafka:BootstrapServers",
        ["--partitions"] = "StreamGrains:Kafka:Partitions",
        ["--storage"] = "StreamGrains:Storage:Kind",
        ["--silo-port"] = "StreamGrains:Cluster:SiloPort",
        ["--gateway-port"] = "StreamGrains:Cluster:GatewayPort",
        ["--primary-silo-port"] = "StreamGrains:Cluster:PrimarySiloPort",
    };
}
