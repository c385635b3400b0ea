using Confluent.Kafka;

namespace StreamGrains.Kafka.Publishing;

/// <summary>What a <see cref="SpillingProducer"/> produces to, and where it keeps what Kafka cannot take yet.</summary>
public sealed class SpillingProducerOptions
{
    /// <summary>
    /// The producer's configuration (bootstrap servers, security, client id). Idempotence, <c>acks=all</c>, the Java
    /// client's partitioner and the delivery timeout (<see cref="PublishTimeout"/>) are set over it.
    /// </summary>
    public ProducerConfig Producer { get; set; } = new();

    /// <summary>The topic records go to.</summary>
    public string Topic { get; set; } = string.Empty;

    /// <summary>The directory of the spill log; one producer process at a time.</summary>
    public string SpillDirectory { get; set; } = string.Empty;

    /// <summary>How long Kafka may take to acknowledge a record before it goes to the spill log.</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The most bytes the spill log's file may hold (default 1 GiB; it is emptied once all of it is sent): a call that
    /// finds it full, while Kafka is away or the log is still being sent, is refused whole
    /// (<see cref="SpillLogFullException"/>), so that an outage fills no disk. Records of calls already in flight
    /// when Kafka went away are spilled even past it (they were taken; refusing them then would lose or duplicate them).
    /// </summary>
    public long MaxSpillBytes { get; set; } = 1L << 30;

    /// <summary>The prefix of the producer's metric names, e.g. <c>streamgrains.api</c>: <c>{prefix}.events.spilled</c> and so on.</summary>
    public string MetricPrefix { get; set; } = "streamgrains.publisher";

    /// <summary>The first of the options' errors, naming the option; null when they are fine.</summary>
    public string? Error() =>
        string.IsNullOrWhiteSpace(Producer.BootstrapServers) ? "Producer.BootstrapServers is empty: name the Kafka brokers."
        : string.IsNullOrWhiteSpace(Topic) ? "Topic is empty: name the topic to produce to."
        : string.IsNullOrWhiteSpace(SpillDirectory) ? "SpillDirectory is empty: name a directory for the spill log."
        : PublishTimeout < TimeSpan.FromMilliseconds(100) || PublishTimeout > TimeSpan.FromMinutes(10) ? $"PublishTimeout is {PublishTimeout}: it must be from 100 ms to 10 minutes."
        : MaxSpillBytes < 1024 ? $"MaxSpillBytes is {MaxSpillBytes}: it must be at least 1024."
        : null;
}
