namespace StreamGrains.Kafka.Embedded;

/// <summary>A topic of the embedded broker.</summary>
/// <param name="Name">The topic name.</param>
/// <param name="Partitions">The number of partitions.</param>
public sealed record EmbeddedKafkaTopic(string Name, int Partitions);
