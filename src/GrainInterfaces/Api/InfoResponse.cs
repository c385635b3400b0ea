namespace StreamGrains.Api;

/// <summary>The body of <c>GET /api/info</c>.</summary>
/// <param name="Version">The platform version.</param>
/// <param name="SiloAddress">This silo's Orleans address.</param>
/// <param name="ClusterId">The Orleans cluster id.</param>
/// <param name="Kafka">The Kafka the platform uses.</param>
/// <param name="Storage">The grain storage kind.</param>
public sealed record InfoResponse(string Version, string SiloAddress, string ClusterId, KafkaInfo Kafka, string Storage);

/// <summary>The Kafka part of <see cref="InfoResponse"/>.</summary>
/// <param name="BootstrapServers">Where Kafka clients connect.</param>
/// <param name="Embedded">True when the broker runs inside this silo's process.</param>
/// <param name="EmbeddedBrokers">The embedded broker count, when embedded.</param>
/// <param name="ConsumerGroup">The platform's consumer group.</param>
/// <param name="Topics">The platform's topics.</param>
/// <param name="Partitions">Every partition the platform reads: who reads it and how far.</param>
/// <param name="Error">Why the topic metadata could not be read, if it could not.</param>
public sealed record KafkaInfo(string BootstrapServers, bool Embedded, int? EmbeddedBrokers, string ConsumerGroup, IReadOnlyList<TopicInfo> Topics, IReadOnlyList<PartitionInfo> Partitions, string? Error);

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
public sealed record PartitionInfo(string Topic, int Partition, string? Owner, string State, long? CurrentOffset, long? CommittedOffset, long? HighWatermark, long? HighWatermarkAgeMs, long? Lag, long? CommitLag);

/// <summary>One topic of the platform.</summary>
/// <param name="Name">The topic name.</param>
/// <param name="Role">What the platform does with it: <c>input</c>, <c>dead-letter</c> or <c>output</c>.</param>
/// <param name="Partitions">The partition count, when known.</param>
public sealed record TopicInfo(string Name, string Role, int? Partitions);
