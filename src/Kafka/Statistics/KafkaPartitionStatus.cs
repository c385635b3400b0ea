namespace StreamGrains.Kafka.Statistics;

/// <summary>One partition as this process sees it.</summary>
/// <param name="Topic">The topic.</param>
/// <param name="Partition">The partition.</param>
/// <param name="Owner">The silo reading it now, if this process does.</param>
/// <param name="ReadUpTo">The offset after the last record read here, or -1.</param>
/// <param name="DeliveredOffset">The offset before which every event was delivered, or -1.</param>
/// <param name="CommittedOffset">The offset this process committed last, or -1.</param>
/// <param name="Lag">Records not yet read: the last known high watermark minus the read position, when both are known.</param>
/// <param name="State">
/// <c>starting</c>, <c>reading</c>, or <c>unreadable</c> (its leader broker has been away, or nothing could be fetched,
/// for longer than <see cref="KafkaStreamOptions.UnreadableAfter"/>); null when this process does not read it.
/// </param>
/// <param name="HighWatermark">The partition's last known high watermark.</param>
/// <param name="HighWatermarkAgeMs">How long ago that high watermark was seen, in milliseconds.</param>
[GenerateSerializer, Immutable, Alias("sg.kafka.partition-status")]
public sealed record KafkaPartitionStatus(
    [property: Id(0)] string Topic,
    [property: Id(1)] int Partition,
    [property: Id(2)] string? Owner,
    [property: Id(3)] long ReadUpTo,
    [property: Id(4)] long DeliveredOffset,
    [property: Id(5)] long CommittedOffset,
    [property: Id(6)] long? Lag,
    [property: Id(7)] string? State = null,
    [property: Id(8)] long? HighWatermark = null,
    [property: Id(9)] long? HighWatermarkAgeMs = null);
