namespace StreamGrains.Kafka.Providers;

/// <summary>
/// A batch a consumer kept failing until the pulling agent gave up on it. Its cache entry counts as undelivered, so the
/// checkpoint cannot pass it, until its records are in the dead-letter topic.
/// </summary>
/// <param name="Seq">The cache entry's sequence number.</param>
/// <param name="Batch">The events the consumer failed on, as handed to it.</param>
/// <param name="Error">The consumer's last error, as the delivery call reported it.</param>
internal sealed record KafkaFailedDelivery(long Seq, KafkaBatchContainer Batch, string Error);
