namespace StreamGrains.Api;

/// <summary>The body of <c>GET /api/info</c>.</summary>
/// <param name="Version">The platform version.</param>
/// <param name="SiloAddress">This silo's Orleans address.</param>
/// <param name="ClusterId">The Orleans cluster id.</param>
/// <param name="Kafka">The Kafka the platform uses.</param>
/// <param name="Storage">The grain storage kind.</param>
[GenerateSerializer, Immutable, Alias("sg.api.info-response")]
public sealed record InfoResponse([property: Id(0)] string Version, [property: Id(1)] string SiloAddress, [property: Id(2)] string ClusterId, [property: Id(3)] KafkaInfo Kafka, [property: Id(4)] string Storage);

/// <summary>The Kafka part of <see cref="InfoResponse"/>.</summary>
/// <param name="BootstrapServers">Where Kafka clients connect.</param>
/// <param name="Embedded">True when the broker runs inside this silo's process.</param>
/// <param name="EmbeddedBrokers">The embedded broker count, when embedded.</param>
/// <param name="ConsumerGroup">The platform's consumer group.</param>
/// <param name="Topics">The platform's topics.</param>
/// <param name="Partitions">Every partition the platform reads: who reads it and how far.</param>
/// <param name="Error">Why the topic metadata could not be read, if it could not.</param>
[GenerateSerializer, Immutable, Alias("sg.api.kafka-info")]
public sealed record KafkaInfo([property: Id(0)] string BootstrapServers, [property: Id(1)] bool Embedded, [property: Id(2)] int? EmbeddedBrokers, [property: Id(3)] string ConsumerGroup, [property: Id(4)] IReadOnlyList<TopicInfo> Topics, [property: Id(5)] IReadOnlyList<PartitionInfo> Partitions, [property: Id(6)] string? Error);

/// <summary>One partition the platform reads.</summary>
/// <param name="Topic">The topic.</param>
/// <param name="Partition">The partition.</param>
/// <param name="Owner">The silo reading it, or null when no live silo reports it (stuck or orphaned).</param>
/// <param name="State">
/// <c>reading</c>; <c>starting</c> (its reader has not fetched yet); <c>unreadable</c> (its leader broker has been away for
/// longer than <c>Kafka:UnreadableAfter</c>); or <c>unowned</c> (no live silo reads it).
/// </param>
/// <param name="CurrentOffset">The next offset its reader will read.</param>
/// <param name="CommittedOffset">The offset its reader last committed for the consumer group.</param>
/// <param name="HighWatermark">The partition's last known high watermark.</param>
/// <param name="HighWatermarkAgeMs">How long ago that high watermark was seen (it grows while the partition cannot be read).</param>
/// <param name="Lag">Records not yet read: the high watermark minus the current offset.</param>
/// <param name="CommitLag">Records not yet committed: the high watermark minus the committed offset.</param>
[GenerateSerializer, Immutable, Alias("sg.api.partition-info")]
public sealed record PartitionInfo([property: Id(0)] string Topic, [property: Id(1)] int Partition, [property: Id(2)] string? Owner, [property: Id(3)] string State, [property: Id(4)] long? CurrentOffset, [property: Id(5)] long? CommittedOffset, [property: Id(6)] long? HighWatermark, [property: Id(7)] long? HighWatermarkAgeMs, [property: Id(8)] long? Lag, [property: Id(9)] long? CommitLag);

/// <summary>One topic of the platform.</summary>
/// <param name="Name">The topic name.</param>
/// <param name="Role">What the platform does with it: <c>input</c>, <c>dead-letter</c> or <c>output</c>.</param>
/// <param name="Partitions">The partition count, when known.</param>
[GenerateSerializer, Immutable, Alias("sg.api.topic-info")]
public sealed record TopicInfo([property: Id(0)] string Name, [property: Id(1)] string Role, [property: Id(2)] int? Partitions);
