using StreamGrains.Aggregations;
using StreamGrains.Profiles;
using StreamGrains.Rules;

namespace StreamGrains.Silo.Configuration;

/// <summary>The <c>StreamGrains</c> configuration section: everything the silo host reads.</summary>
public sealed class StreamGrainsOptions
{
    /// <summary>The name of the configuration section.</summary>
    public const string SectionName = "StreamGrains";

    /// <summary>Kafka: an external cluster, or the embedded broker.</summary>
    public KafkaSettings Kafka { get; set; } = new();

    /// <summary>Grain storage.</summary>
    public StorageSettings Storage { get; set; } = new();

    /// <summary>Orleans cluster membership and ports.</summary>
    public ClusterSettings Cluster { get; set; } = new();

    /// <summary>The demo traffic generator.</summary>
    public DemoSettings Demo { get; set; } = new();

    /// <summary>OpenTelemetry: metrics, traces and logs.</summary>
    public TelemetrySettings Telemetry { get; set; } = new();

    /// <summary>The event archive in PostgreSQL (with <c>Storage:Kind</c> <c>Postgres</c>).</summary>
    public ArchiveSettings Archive { get; set; } = new();

    /// <summary>
    /// Aggregations by name: <c>StreamGrains:Aggregations:&lt;name&gt;:Window:Kind</c> and the rest; the names
    /// <c>IdleTimeout</c>, <c>MaxFutureSkew</c> and <c>Shards</c> are settings shared by all (<see cref="AggregationLimits"/>).
    /// </summary>
    public Dictionary<string, AggregationSettings> Aggregations { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Decision rules by name: <c>StreamGrains:Rules:&lt;name&gt;:Kind</c> and the keys of that kind.</summary>
    public Dictionary<string, RuleSettings> Rules { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The external store of entity context that profiles load.</summary>
    public ContextSettings Context { get; set; } = new();

    /// <summary>How profile grains live.</summary>
    public ProfileOptions Profiles { get; set; } = new();

    /// <summary>The public HTTP API: keys, request size, rate limits.</summary>
    public ApiSettings Api { get; set; } = new();
}

/// <summary>The kinds of entity context store.</summary>
public enum ContextKind
{
    /// <summary>No context.</summary>
    None,

    /// <summary>A file of JSON lines (<c>Context:Path</c>).</summary>
    File,

    /// <summary>The table <c>entity_context</c> on <c>ConnectionStrings:StreamGrains</c>.</summary>
    Postgres,
}

/// <summary>The <c>StreamGrains:Context</c> section.</summary>
public sealed class ContextSettings
{
    /// <summary><c>None</c> (default), <c>File</c> or <c>Postgres</c> (validated without regard to case).</summary>
    public string Kind { get; set; } = nameof(ContextKind.None);

    /// <summary>With <c>File</c>: the file of JSON lines <c>{"entity": "...", "attrs": {...}}</c>.</summary>
    public string? Path { get; set; }

    /// <summary>How often a profile reloads its entity's context.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The kind, parsed.</summary>
    public ContextKind ParsedKind => Enum.TryParse<ContextKind>(Kind, ignoreCase: true, out var kind) ? kind : ContextKind.None;
}

/// <summary>The <c>StreamGrains:Archive</c> section.</summary>
public sealed class ArchiveSettings
{
    /// <summary>Archive every valid event in the <c>events</c> table (only with PostgreSQL storage).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How long events stay in the archive, by event time; <c>00:00:00</c> keeps them for ever.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>A batch is written once it holds this many events...</summary>
    public int BatchRows { get; set; } = 10_000;

    /// <summary>...or once its first event waited this long.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Events read but not yet archived, at most, per silo: past it, reading waits for the archive.</summary>
    public int MaxPendingRows { get; set; } = 200_000;
}

/// <summary>The <c>StreamGrains:Telemetry</c> section.</summary>
public sealed class TelemetrySettings
{
    /// <summary>The service name in every metric, span and log record.</summary>
    public string ServiceName { get; set; } = "streamgrains";

    /// <summary>Serve Prometheus' scrape endpoint at <c>/metrics</c>.</summary>
    public bool Prometheus { get; set; } = true;

    /// <summary>
    /// The share of records without a <c>traceparent</c> header that start a trace (0 to 1). Records that carry one
    /// always continue their trace when it was sampled upstream.
    /// </summary>
    public double TraceSampleRatio { get; set; } = 0.001;

    /// <summary>Export to an OpenTelemetry collector.</summary>
    public OtlpSettings Otlp { get; set; } = new();

    /// <summary>The API key scope <c>/metrics</c> requires (<c>read</c>, <c>write</c> or <c>admin</c>); empty: open.</summary>
    public string? MetricsScope { get; set; }
}

/// <summary>The <c>StreamGrains:Telemetry:Otlp</c> section.</summary>
public sealed class OtlpSettings
{
    /// <summary>The collector's endpoint, e.g. <c>http://otel-collector:4317</c>; empty: no OTLP export.</summary>
    public string? Endpoint { get; set; }

    /// <summary><c>grpc</c> or <c>http/protobuf</c>.</summary>
    public string Protocol { get; set; } = "grpc";

    /// <summary>Export metrics.</summary>
    public bool Metrics { get; set; } = true;

    /// <summary>Export traces.</summary>
    public bool Traces { get; set; } = true;

    /// <summary>Export logs.</summary>
    public bool Logs { get; set; } = true;

    /// <summary>True when an endpoint is set.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(Endpoint);
}

/// <summary>The <c>StreamGrains:Kafka</c> section.</summary>
public sealed class KafkaSettings
{
    /// <summary>
    /// The bootstrap servers of an external Kafka cluster (e.g. <c>kafka-1:9092,kafka-2:9092</c>). Empty: the silo starts
    /// an embedded broker in its own process.
    /// </summary>
    public string? BootstrapServers { get; set; }

    /// <summary>The number of brokers of the embedded cluster.</summary>
    public int EmbeddedBrokers { get; set; } = 1;

    /// <summary>The partition count of the topics the embedded broker creates.</summary>
    public int Partitions { get; set; } = 8;

    /// <summary>The topic events arrive on.</summary>
    public string InputTopic { get; set; } = "events";

    /// <summary>The suffix of dead-letter topics: records of <c>events</c> that break the contract go to <c>events.dlq</c>.</summary>
    public string DeadLetterSuffix { get; set; } = ".dlq";

    /// <summary>The topic decision records go to (key: the entity).</summary>
    public string DecisionsTopic { get; set; } = "decisions";

    /// <summary>The topic every valid event no <c>Filter</c> rule dropped goes to, enriched; empty: none.</summary>
    public string? EnrichedTopic { get; set; } = "events.enriched";

    /// <summary>The topic final windows go to (key: the group key).</summary>
    public string AggregatesTopic { get; set; } = "aggregates";

    /// <summary>The topic closed sessions go to (key: the group key).</summary>
    public string SessionsTopic { get; set; } = "sessions";

    /// <summary>The topic events that come too late for an aggregation go to, unchanged, with headers naming it and why.</summary>
    public string LateTopic { get; set; } = "events.late";

    /// <summary>The consumer group whose committed offsets the platform reads and writes.</summary>
    public string ConsumerGroup { get; set; } = "streamgrains";

    /// <summary>How often delivered offsets are committed; after a crash at most about this much is delivered again.</summary>
    public TimeSpan CommitInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Where to start partitions the consumer group has no offset for: <c>Earliest</c> or <c>Latest</c>.</summary>
    public string StartFrom { get; set; } = "Earliest";

    /// <summary>
    /// Allow explicit stream subscriptions (Orleans' grain-based pub-sub) besides the implicit ones the platform's grains
    /// use. Off by default: that pub-sub adds a rendezvous grain per stream and keeps explicit subscriptions in the
    /// <c>PubSubStore</c> storage, so with <c>Memory</c> storage a silo crash forgets the subscriptions it held.
    /// </summary>
    public bool ExplicitSubscriptions { get; set; }

    /// <summary>
    /// How long a consumer that keeps failing on a batch is retried before the batch goes to the dead-letter topic with
    /// reason <c>delivery-failed</c> (Orleans' <c>StreamPullingAgentOptions.MaxEventDeliveryTime</c>).
    /// </summary>
    public TimeSpan MaxEventDeliveryTime { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A partition whose leader broker has been away for longer than this shows as unreadable and degrades readiness.</summary>
    public TimeSpan UnreadableAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an external Kafka may take to answer when the silo starts.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The most records a partition's cache holds on a silo.</summary>
    public int CacheMaxRecords { get; set; } = 32_768;

    /// <summary>The most key and value bytes a partition's cache holds on a silo.</summary>
    public long CacheMaxBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Records larger than this many bytes are dead-lettered as <c>oversized</c>.</summary>
    public int MaxRecordBytes { get; set; } = 1024 * 1024;

    /// <summary>Extra librdkafka properties for every client (e.g. <c>security.protocol</c>, <c>sasl.mechanism</c>).</summary>
    public Dictionary<string, string> Properties { get; set; } = new(StringComparer.Ordinal);

    /// <summary>True when no external cluster is configured.</summary>
    public bool IsEmbedded => string.IsNullOrWhiteSpace(BootstrapServers);

    /// <summary>The dead-letter topic of the input topic.</summary>
    public string DeadLetterTopic => InputTopic + DeadLetterSuffix;
}

/// <summary>The kinds of grain storage.</summary>
public enum StorageKind
{
    /// <summary>In-memory grain storage and localhost clustering: state is lost when a silo stops (development and demos).</summary>
    Memory,

    /// <summary>
    /// PostgreSQL (<c>ConnectionStrings:StreamGrains</c>): Orleans clustering, grain state, pub-sub state and reminders,
    /// and the event archive.
    /// </summary>
    Postgres,
}

/// <summary>The <c>StreamGrains:Storage</c> section.</summary>
public sealed class StorageSettings
{
    /// <summary>The name of the connection string PostgreSQL storage uses: <c>ConnectionStrings:StreamGrains</c>.</summary>
    public const string ConnectionStringName = "StreamGrains";

    /// <summary>The kind of grain storage, as configured (validated against <see cref="StorageKind"/>, without regard to case).</summary>
    public string Kind { get; set; } = nameof(StorageKind.Memory);

    /// <summary>Bring the database to this build's schema when the silo starts (else run <c>migrate</c> first).</summary>
    public bool MigrateOnStart { get; set; } = true;

    /// <summary>How long PostgreSQL may take to answer when the silo starts.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The kind, parsed.</summary>
    public StorageKind ParsedKind => Enum.TryParse<StorageKind>(Kind, ignoreCase: true, out var kind) ? kind : StorageKind.Memory;
}

/// <summary>The <c>StreamGrains:Cluster</c> section.</summary>
public sealed class ClusterSettings
{
    /// <summary>The Orleans cluster id: silos with the same id form one cluster.</summary>
    public string ClusterId { get; set; } = "streamgrains";

    /// <summary>The Orleans service id: stable across deployments, it keys persisted state.</summary>
    public string ServiceId { get; set; } = "streamgrains";

    /// <summary>The port silos talk to each other on.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>The port clients connect to.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// Localhost clustering: the silo port of the primary silo that other silos join. Empty: this silo is the primary.
    /// </summary>
    public int? PrimarySiloPort { get; set; }

    /// <summary>
    /// With PostgreSQL clustering: the IP address other silos and clients reach this silo at. Empty: this machine's
    /// first IPv4 address; <c>127.0.0.1</c> for silos that all run on one machine.
    /// </summary>
    public string? AdvertisedAddress { get; set; }
}

/// <summary>The <c>StreamGrains:Demo</c> section.</summary>
public sealed class DemoSettings
{
    /// <summary>Whether to produce demo traffic. Empty: on with the embedded broker, off with an external Kafka.</summary>
    public bool? Enabled { get; set; }

    /// <summary>Events produced per second.</summary>
    public int EventsPerSecond { get; set; } = 200;

    /// <summary>How many entities (cards and users) the traffic is about.</summary>
    public int Entities { get; set; } = 3000;

    /// <summary>The share of cards that behave suspiciously (bursts of large payments from many countries).</summary>
    public double SuspiciousShare { get; set; } = 0.02;
}
