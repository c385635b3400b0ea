namespace StreamGrains.Kafka.DataAdapters;

/// <summary>A Kafka record as a stream event, as the raw data adapter delivers it.</summary>
/// <param name="Key">The record key as UTF-8 text, or null.</param>
/// <param name="Value">The record value.</param>
/// <param name="TimestampMs">The Kafka timestamp in Unix milliseconds.</param>
/// <param name="Headers">The record headers (last value wins for repeated names).</param>
[GenerateSerializer, Immutable, Alias("sg.kafka.record")]
public sealed record KafkaRecord(
    [property: Id(0)] string? Key,
    [property: Id(1)] byte[] Value,
    [property: Id(2)] long TimestampMs,
    [property: Id(3)] IReadOnlyDictionary<string, byte[]>? Headers);
