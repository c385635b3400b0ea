using Confluent.Kafka;

namespace StreamGrains.Kafka;

/// <summary>The options of one Kafka stream provider: where Kafka is, which topics map to which stream namespaces.</summary>
public sealed class KafkaStreamOptions
{
    /// <summary>Kafka's bootstrap servers, e.g. <c>kafka-1:9092,kafka-2:9092</c>. Required.</summary>
    public string BootstrapServers { get; set; } = string.Empty;

    /// <summary>
    /// The consumer group whose committed offsets the provider reads on start and writes as events are delivered.
    /// Partitions are assigned by Orleans' queue balancer, never by Kafka's group protocol.
    /// </summary>
    public string ConsumerGroup { get; set; } = "orleans-streams";

    /// <summary>The topics, each one a stream namespace (by default its own name).</summary>
    public IList<KafkaTopicOptions> Topics { get; } = [];

    /// <summary>Where to start a partition that has no committed offset for <see cref="ConsumerGroup"/>.</summary>
    public AutoOffsetReset StartFrom { get; set; } = AutoOffsetReset.Earliest;

    /// <summary>Extra librdkafka properties for every client the provider makes (SASL, SSL, timeouts...).</summary>
    public IDictionary<string, string> Properties { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Extra librdkafka properties for the consumers only (applied after <see cref="Properties"/>).</summary>
    public IDictionary<string, string> ConsumerProperties { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Extra librdkafka properties for the producer only (applied after <see cref="Properties"/>).</summary>
    public IDictionary<string, string> ProducerProperties { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>How often delivered offsets are committed to Kafka. A crash re-delivers at most about this much.</summary>
    public TimeSpan CommitInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a read that finds no record waits for one (on a thread of the partition's own) before it returns
    /// empty-handed. A record that arrives meanwhile reaches the cache within a fetch, with no poll period in between;
    /// an idle partition costs next to nothing. Zero: reads never wait (the pulling agent polls every period).
    /// </summary>
    public TimeSpan ReadWaitTime { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The most records one read of a partition hands to the cache.</summary>
    public int MaxBatchSize { get; set; } = 10_000;

    /// <summary>Records larger than this (key plus value) are dead-lettered with reason <c>oversized</c>.</summary>
    public int MaxRecordBytes { get; set; } = 1024 * 1024;

    /// <summary>The suffix of dead-letter topics: records of <c>events</c> that cannot be decoded go to <c>events.dlq</c>.</summary>
    public string DeadLetterSuffix { get; set; } = ".dlq";

    /// <summary>
    /// The share of records without a <c>traceparent</c> header for which the provider starts a trace (0 to 1). The
    /// check costs nothing next to asking the tracer's sampler about every record; the sampler still has the last word.
    /// Records that carry a trace context are always continued.
    /// </summary>
    public double TraceSampleRatio { get; set; } = 1.0;

    /// <summary>
    /// How often each partition's consumer reports librdkafka's statistics: the partition's high watermark and whether
    /// its leader broker is reachable (for lag and <see cref="UnreadableAfter"/>).
    /// </summary>
    public TimeSpan StatisticsInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A partition this silo owns whose leader broker has been away (or that could not be fetched) for longer than this
    /// shows as <c>unreadable</c>, and degrades the health check.
    /// </summary>
    public TimeSpan UnreadableAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long metadata look-ups (partition counts at start-up) may take.</summary>
    public TimeSpan MetadataTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The dead-letter topic of <paramref name="topic"/>.</summary>
    /// <param name="topic">A consumed topic.</param>
    public string DeadLetterTopicOf(string topic) => topic + DeadLetterSuffix;

    /// <summary>Adds a topic.</summary>
    /// <param name="name">The topic.</param>
    /// <param name="partitions">Its partition count; 0 reads it from Kafka at start-up.</param>
    /// <param name="streamNamespace">The stream namespace its records go to; null: the topic name.</param>
    public KafkaStreamOptions AddTopic(string name, int partitions = 0, string? streamNamespace = null)
    {
        Topics.Add(new KafkaTopicOptions { Name = name, Partitions = partitions, StreamNamespace = streamNamespace });
        return this;
    }
}

/// <summary>One topic of a Kafka stream provider.</summary>
public sealed class KafkaTopicOptions
{
    /// <summary>The topic name.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>The stream namespace of its records (and the namespace whose events are published to it); null: <see cref="Name"/>.</summary>
    public string? StreamNamespace { get; set; }

    /// <summary>The partition count; 0 reads it from Kafka when the provider starts.</summary>
    public int Partitions { get; set; }

    /// <summary>False makes the topic publish-only: no queues, no receivers.</summary>
    public bool Consume { get; set; } = true;

    /// <summary>The stream namespace, defaulted.</summary>
    public string Namespace => StreamNamespace ?? Name;
}

/// <summary>
/// How much a partition's queue cache holds. The cache holds at most <see cref="MaxRecords"/> records and at most
/// <see cref="MaxBytes"/> key and value bytes, plus one record; reading the partition pauses while undelivered records
/// fill 90 % of either, and delivered records kept for rewinds never take more than half of either.
/// </summary>
public sealed class KafkaQueueCacheOptions
{
    /// <summary>The most records one partition's cache holds, delivered or not.</summary>
    public int MaxRecords { get; set; } = 32_768;

    /// <summary>The most key and value bytes one partition's cache holds, delivered or not (one record more at most).</summary>
    public long MaxBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>
    /// How long delivered records stay cached so that subscriptions can be rewound to their tokens. Delivered records
    /// are dropped sooner when they would take more than half the cache.
    /// </summary>
    public TimeSpan RewindWindow { get; set; } = TimeSpan.FromMinutes(1);
}
