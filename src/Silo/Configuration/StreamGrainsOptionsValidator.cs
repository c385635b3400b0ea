using Microsoft.Extensions.Options;
using StreamGrains.Aggregations;
using StreamGrains.Rules;
using StreamGrains.Silo.Api.Security;

namespace StreamGrains.Silo.Configuration;

/// <summary>Checks the <c>StreamGrains</c> section at start-up; every message names the setting it is about.</summary>
internal sealed class StreamGrainsOptionsValidator : IValidateOptions<StreamGrainsOptions>
{
    public ValidateOptionsResult Validate(string? name, StreamGrainsOptions options)
    {
        var errors = Errors(options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    public static IReadOnlyList<string> Errors(StreamGrainsOptions options) => Errors(options, connectionString: null, checkConnectionString: false);

    /// <summary>Every problem of the options, including a PostgreSQL storage without its connection string.</summary>
    public static IReadOnlyList<string> Errors(StreamGrainsOptions options, string? connectionString, bool checkConnectionString = true)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        void Require(bool condition, string setting, string message)
        {
            if (!condition)
            {
                errors.Add($"{StreamGrainsOptions.SectionName}:{setting}: {message}");
            }
        }

        var kafka = options.Kafka;
        Require(kafka.Partitions >= 1 && kafka.Partitions <= 1024, "Kafka:Partitions", $"must be between 1 and 1024, was {kafka.Partitions}.");
        Require(kafka.EmbeddedBrokers >= 1 && kafka.EmbeddedBrokers <= 32, "Kafka:EmbeddedBrokers", $"must be between 1 and 32, was {kafka.EmbeddedBrokers}.");
        Require(IsTopicName(kafka.InputTopic), "Kafka:InputTopic", $"'{kafka.InputTopic}' is not a Kafka topic name (1 to 249 of a-z A-Z 0-9 . _ -).");
        Require(!string.IsNullOrEmpty(kafka.DeadLetterSuffix) && IsTopicName(kafka.DeadLetterTopic), "Kafka:DeadLetterSuffix", $"'{kafka.DeadLetterSuffix}' does not make a valid dead-letter topic name.");
        Require(!string.IsNullOrWhiteSpace(kafka.ConsumerGroup), "Kafka:ConsumerGroup", "must not be empty.");
        Require(kafka.CommitInterval >= TimeSpan.FromMilliseconds(100) && kafka.CommitInterval <= TimeSpan.FromHours(1), "Kafka:CommitInterval", $"must be between 00:00:00.1 and 01:00:00, was {kafka.CommitInterval}.");
        Require(string.Equals(kafka.StartFrom, "Earliest", StringComparison.OrdinalIgnoreCase) || string.Equals(kafka.StartFrom, "Latest", StringComparison.OrdinalIgnoreCase), "Kafka:StartFrom", $"must be Earliest or Latest, was '{kafka.StartFrom}'.");
        Require(kafka.UnreadableAfter >= TimeSpan.FromSeconds(1) && kafka.UnreadableAfter <= TimeSpan.FromHours(1), "Kafka:UnreadableAfter", $"must be between 00:00:01 and 01:00:00, was {kafka.UnreadableAfter}.");
        Require(kafka.ConnectTimeout >= TimeSpan.FromSeconds(1) && kafka.ConnectTimeout <= TimeSpan.FromMinutes(5), "Kafka:ConnectTimeout", $"must be between 00:00:01 and 00:05:00, was {kafka.ConnectTimeout}.");
        Require(kafka.MaxRecordBytes >= 64, "Kafka:MaxRecordBytes", $"must be at least 64, was {kafka.MaxRecordBytes}.");
        Require(kafka.MaxEventDeliveryTime >= TimeSpan.FromSeconds(1) && kafka.MaxEventDeliveryTime <= TimeSpan.FromHours(1), "Kafka:MaxEventDeliveryTime", $"must be between 00:00:01 and 01:00:00, was {kafka.MaxEventDeliveryTime}.");
        Require(kafka.CacheMaxRecords >= 16, "Kafka:CacheMaxRecords", $"must be at least 16, was {kafka.CacheMaxRecords}.");
        Require(kafka.CacheMaxBytes >= 64 * 1024, "Kafka:CacheMaxBytes", $"must be at least 65536, was {kafka.CacheMaxBytes}.");
        if (!kafka.IsEmbedded)
        {
            foreach (var server in kafka.BootstrapServers!.Split(',', StringSplitOptions.TrimEntries))
            {
                Require(IsHostPort(server), "Kafka:BootstrapServers", $"'{server}' is not host:port.");
            }
        }

        Require(
            Enum.TryParse<StorageKind>(options.Storage.Kind, ignoreCase: true, out var kind) && Enum.IsDefined(kind) && !int.TryParse(options.Storage.Kind, out _),
            "Storage:Kind",
            $"'{options.Storage.Kind}' is not a storage kind; use one of: {string.Join(", ", Enum.GetNames<StorageKind>())}.");

        if (checkConnectionString && options.Storage.ParsedKind == StorageKind.Postgres && string.IsNullOrWhiteSpace(connectionString))
        {
            errors.Add($"ConnectionStrings:{StorageSettings.ConnectionStringName}: required with {StreamGrainsOptions.SectionName}:Storage:Kind Postgres (e.g. --ConnectionStrings:{StorageSettings.ConnectionStringName} \"Host=localhost;Port=5432;Username=streamgrains;Database=streamgrains\").");
        }

        if (checkConnectionString && !string.IsNullOrWhiteSpace(connectionString))
        {
            try
            {
                _ = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
            }
            catch (ArgumentException ex)
            {
                errors.Add($"ConnectionStrings:{StorageSettings.ConnectionStringName}: not a PostgreSQL connection string ({ex.Message}).");
            }
        }

        Require(options.Storage.ConnectTimeout >= TimeSpan.FromSeconds(1) && options.Storage.ConnectTimeout <= TimeSpan.FromMinutes(5), "Storage:ConnectTimeout", $"must be between 00:00:01 and 00:05:00, was {options.Storage.ConnectTimeout}.");
        var archive = options.Archive;
        Require(archive.Retention >= TimeSpan.Zero, "Archive:Retention", $"must not be negative, was {archive.Retention}.");
        Require(archive.BatchRows is >= 1 and <= 1_000_000, "Archive:BatchRows", $"must be between 1 and 1000000, was {archive.BatchRows}.");
        Require(archive.FlushInterval >= TimeSpan.FromMilliseconds(1) && archive.FlushInterval <= TimeSpan.FromMinutes(1), "Archive:FlushInterval", $"must be between 00:00:00.001 and 00:01:00, was {archive.FlushInterval}.");
        Require(archive.MaxPendingRows >= archive.BatchRows, "Archive:MaxPendingRows", $"must be at least Archive:BatchRows ({archive.BatchRows}), was {archive.MaxPendingRows}.");

        Require(IsTopicName(kafka.DecisionsTopic), "Kafka:DecisionsTopic", $"'{kafka.DecisionsTopic}' is not a Kafka topic name (1 to 249 of a-z A-Z 0-9 . _ -).");
        Require(string.IsNullOrEmpty(kafka.EnrichedTopic) || IsTopicName(kafka.EnrichedTopic), "Kafka:EnrichedTopic", $"'{kafka.EnrichedTopic}' is not a Kafka topic name (or empty, for none).");
        Require(!string.Equals(kafka.DecisionsTopic, kafka.InputTopic, StringComparison.Ordinal), "Kafka:DecisionsTopic", "must differ from Kafka:InputTopic.");
        Require(!string.Equals(kafka.EnrichedTopic, kafka.InputTopic, StringComparison.Ordinal) && !string.Equals(kafka.EnrichedTopic, kafka.DecisionsTopic, StringComparison.Ordinal), "Kafka:EnrichedTopic", "must differ from Kafka:InputTopic and Kafka:DecisionsTopic.");

        foreach (var (setting, topic) in new[] { ("Kafka:AggregatesTopic", kafka.AggregatesTopic), ("Kafka:SessionsTopic", kafka.SessionsTopic), ("Kafka:LateTopic", kafka.LateTopic) })
        {
            Require(IsTopicName(topic), setting, $"'{topic}' is not a Kafka topic name (1 to 249 of a-z A-Z 0-9 . _ -).");
            Require(!string.Equals(topic, kafka.InputTopic, StringComparison.Ordinal) && !string.Equals(topic, kafka.DeadLetterTopic, StringComparison.Ordinal), setting, "must differ from Kafka:InputTopic and the dead-letter topic.");
        }

        RuleCompiler.Compile(options.Rules, $"{StreamGrainsOptions.SectionName}:Rules", errors);
        AggregationCompiler.Compile(options.Aggregations, $"{StreamGrainsOptions.SectionName}:Aggregations", errors);
        var context = options.Context;
        Require(
            Enum.TryParse<ContextKind>(context.Kind, ignoreCase: true, out var contextKind) && Enum.IsDefined(contextKind) && !int.TryParse(context.Kind, out _),
            "Context:Kind",
            $"'{context.Kind}' is not a context kind; use one of: {string.Join(", ", Enum.GetNames<ContextKind>())}.");
        Require(context.ParsedKind != ContextKind.File || !string.IsNullOrWhiteSpace(context.Path), "Context:Path", "required with Context:Kind File (a file of JSON lines {\"entity\": \"...\", \"attrs\": {...}}).");
        Require(context.RefreshInterval >= TimeSpan.FromSeconds(1) && context.RefreshInterval <= TimeSpan.FromDays(1), "Context:RefreshInterval", $"must be between 00:00:01 and 1.00:00:00, was {context.RefreshInterval}.");
        if (checkConnectionString && context.ParsedKind == ContextKind.Postgres && string.IsNullOrWhiteSpace(connectionString))
        {
            errors.Add($"ConnectionStrings:{StorageSettings.ConnectionStringName}: required with {StreamGrainsOptions.SectionName}:Context:Kind Postgres (the table entity_context).");
        }

        var profiles = options.Profiles;
        Require(profiles.IdleTimeout >= TimeSpan.FromSeconds(10) && profiles.IdleTimeout <= TimeSpan.FromDays(7), "Profiles:IdleTimeout", $"must be between 00:00:10 and 7.00:00:00, was {profiles.IdleTimeout}.");
        Require(profiles.CheckpointInterval >= TimeSpan.FromMilliseconds(100) && profiles.CheckpointInterval <= TimeSpan.FromHours(1), "Profiles:CheckpointInterval", $"must be between 00:00:00.1 and 01:00:00, was {profiles.CheckpointInterval}.");

        var cluster = options.Cluster;
        Require(string.IsNullOrWhiteSpace(cluster.AdvertisedAddress) || System.Net.IPAddress.TryParse(cluster.AdvertisedAddress, out _), "Cluster:AdvertisedAddress", $"'{cluster.AdvertisedAddress}' is not an IP address.");
        Require(!string.IsNullOrWhiteSpace(cluster.ClusterId), "Cluster:ClusterId", "must not be empty.");
        Require(!string.IsNullOrWhiteSpace(cluster.ServiceId), "Cluster:ServiceId", "must not be empty.");
        Require(IsPort(cluster.SiloPort), "Cluster:SiloPort", $"must be a port between 1 and 65535, was {cluster.SiloPort}.");
        Require(IsPort(cluster.GatewayPort), "Cluster:GatewayPort", $"must be a port between 1 and 65535, was {cluster.GatewayPort}.");
        Require(cluster.SiloPort != cluster.GatewayPort, "Cluster:GatewayPort", "must differ from Cluster:SiloPort.");
        Require(cluster.PrimarySiloPort is null || IsPort(cluster.PrimarySiloPort.Value), "Cluster:PrimarySiloPort", $"must be a port between 1 and 65535, was {cluster.PrimarySiloPort}.");

        var demo = options.Demo;
        Require(demo.EventsPerSecond >= 1 && demo.EventsPerSecond <= 1_000_000, "Demo:EventsPerSecond", $"must be between 1 and 1000000, was {demo.EventsPerSecond}.");
        Require(demo.Entities >= 10 && demo.Entities <= 10_000_000, "Demo:Entities", $"must be between 10 and 10000000, was {demo.Entities}.");
        Require(demo.SuspiciousShare >= 0 && demo.SuspiciousShare <= 1, "Demo:SuspiciousShare", $"must be between 0 and 1, was {demo.SuspiciousShare}.");
        var telemetry = options.Telemetry;
        Require(!string.IsNullOrWhiteSpace(telemetry.ServiceName), "Telemetry:ServiceName", "must not be empty.");
        Require(telemetry.TraceSampleRatio is >= 0 and <= 1, "Telemetry:TraceSampleRatio", $"must be between 0 and 1, was {telemetry.TraceSampleRatio}.");
        Require(!telemetry.Otlp.Enabled || Uri.TryCreate(telemetry.Otlp.Endpoint, UriKind.Absolute, out _), "Telemetry:Otlp:Endpoint", $"'{telemetry.Otlp.Endpoint}' is not an absolute URI.");
        Require(string.Equals(telemetry.Otlp.Protocol, "grpc", StringComparison.OrdinalIgnoreCase) || string.Equals(telemetry.Otlp.Protocol, "http/protobuf", StringComparison.OrdinalIgnoreCase), "Telemetry:Otlp:Protocol", $"must be grpc or http/protobuf, was '{telemetry.Otlp.Protocol}'.");
        Require(string.IsNullOrWhiteSpace(telemetry.MetricsScope) || ApiScopes.IsScope(telemetry.MetricsScope), "Telemetry:MetricsScope", $"must be read, write or admin (or empty: /metrics open), was '{telemetry.MetricsScope}'.");
        Require(string.IsNullOrWhiteSpace(telemetry.MetricsScope) || options.Api.Keys.Count > 0, "Telemetry:MetricsScope", "needs API keys (StreamGrains:Api:Keys:<name>:Sha256 and :Scopes): with none, no one could read /metrics.");

        var api = options.Api;
        foreach (var (name, key) in api.Keys)
        {
            Require(key.Sha256 is { Length: 64 } hash && hash.All(char.IsAsciiHexDigit), $"Api:Keys:{name}:Sha256", "must be the key's SHA-256 as 64 hexadecimal digits (printf %s \"$KEY\" | sha256sum).");
            Require(key.Scopes.Count > 0, $"Api:Keys:{name}:Scopes", "must name at least one scope: read, write or admin (Scopes:0, Scopes:1...).");
            foreach (var scope in key.Scopes.Where(s => !ApiScopes.IsScope(s)))
            {
                errors.Add($"{StreamGrainsOptions.SectionName}:Api:Keys:{name}:Scopes: '{scope}' is not a scope; use read, write or admin.");
            }
        }

        foreach (var group in api.Keys.Where(k => k.Value.Sha256 is not null).GroupBy(k => k.Value.Sha256!, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        {
            errors.Add($"{StreamGrainsOptions.SectionName}:Api:Keys: {string.Join(" and ", group.Select(k => k.Key))} have the same Sha256; each key must be different.");
        }

        Require(api.MaxRequestBytes >= 1024 && api.MaxRequestBytes <= 1L << 30, "Api:MaxRequestBytes", $"must be between 1024 and 1073741824, was {api.MaxRequestBytes}.");
        Require(api.MaxEventsPerRequest >= 1 && api.MaxEventsPerRequest <= 1_000_000, "Api:MaxEventsPerRequest", $"must be between 1 and 1000000, was {api.MaxEventsPerRequest}.");
        Require(api.PublishTimeout >= TimeSpan.FromMilliseconds(100) && api.PublishTimeout <= TimeSpan.FromMinutes(1), "Api:PublishTimeout", $"must be between 00:00:00.1 and 00:01:00 (a request waits this long when Kafka is away), was {api.PublishTimeout}.");
        Require(api.MaxSpillBytes >= 1L << 20, "Api:MaxSpillBytes", $"must be at least 1048576 (1 MiB), was {api.MaxSpillBytes}.");
        for (var i = 0; i < api.TrustedProxies.Count; i++)
        {
            Require(ApiSettings.TryParseProxy(api.TrustedProxies[i], out _, out _), $"Api:TrustedProxies:{i}", $"'{api.TrustedProxies[i]}' is neither an IP address nor a network (e.g. 10.0.0.5 or 172.16.0.0/12).");
        }

        Require(api.SpillDirectory is null || api.SpillDirectory.IndexOfAny(Path.GetInvalidPathChars()) < 0, "Api:SpillDirectory", $"'{api.SpillDirectory}' is not a path.");
        Require(api.RateLimit.PermitLimit >= 0, "Api:RateLimit:PermitLimit", $"must be 0 (off) or more, was {api.RateLimit.PermitLimit}.");
        Require(api.RateLimit.Window >= TimeSpan.FromMilliseconds(10) && api.RateLimit.Window <= TimeSpan.FromHours(1), "Api:RateLimit:Window", $"must be between 00:00:00.01 and 01:00:00, was {api.RateLimit.Window}.");
        return errors;
    }

    private static bool IsPort(int port) => port is >= 1 and <= 65535;

    private static bool IsTopicName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 249 && name is not ("." or "..") &&
        name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    private static bool IsHostPort(string server)
    {
        var colon = server.LastIndexOf(':');
        return colon > 0 && int.TryParse(server.AsSpan(colon + 1), out var port) && IsPort(port);
    }
}
