using Confluent.Kafka;

namespace StreamGrains.Kafka.DataAdapters;

/// <summary>
/// Maps Kafka records to stream events and back. The provider asks it to decode every record it reads (a record it
/// rejects goes to the dead-letter topic with the reason) and to encode every event published to a stream.
/// </summary>
public interface IKafkaDataAdapter
{
    /// <summary>Decodes one record.</summary>
    /// <param name="record">The record as read from Kafka.</param>
    /// <returns>The stream key and the event, or why the record was rejected.</returns>
    KafkaDecodeResult Decode(KafkaInboundRecord record);

    /// <summary>Encodes one event published to a stream.</summary>
    /// <param name="streamKey">The stream's key: it becomes the record key, which picks the partition.</param>
    /// <param name="evt">The event.</param>
    /// <returns>The record's value (the key is the stream key, UTF-8).</returns>
    /// <exception cref="NotSupportedException">The adapter does not know how to write this kind of event.</exception>
    byte[] Encode(string streamKey, object evt);
}

/// <summary>A record as read from Kafka, before decoding.</summary>
/// <param name="Topic">The topic.</param>
/// <param name="Partition">The partition.</param>
/// <param name="Offset">The offset.</param>
/// <param name="Key">The key bytes, or null.</param>
/// <param name="Value">The value bytes, or null.</param>
/// <param name="Headers">The headers, or null.</param>
/// <param name="Timestamp">The Kafka timestamp.</param>
public readonly record struct KafkaInboundRecord(string Topic, int Partition, long Offset, byte[]? Key, byte[]? Value, Headers? Headers, Timestamp Timestamp);

/// <summary>What an <see cref="IKafkaDataAdapter"/> made of a record.</summary>
public readonly struct KafkaDecodeResult
{
    private KafkaDecodeResult(string? streamKey, object? evt, string? reason, string? detail)
    {
        StreamKey = streamKey;
        Event = evt;
        RejectionReason = reason;
        RejectionDetail = detail;
    }

    /// <summary>The stream key (the entity), when decoded.</summary>
    public string? StreamKey { get; }

    /// <summary>The event, when decoded.</summary>
    public object? Event { get; }

    /// <summary>A short machine-readable reason, when rejected (e.g. <c>invalid-json</c>).</summary>
    public string? RejectionReason { get; }

    /// <summary>What exactly is wrong, when rejected.</summary>
    public string? RejectionDetail { get; }

    /// <summary>True when the record was decoded.</summary>
    public bool IsSuccess => Event is not null;

    /// <summary>A decoded record.</summary>
    /// <param name="streamKey">The stream key.</param>
    /// <param name="evt">The event.</param>
    public static KafkaDecodeResult Success(string streamKey, object evt) =>
        new(streamKey ?? throw new ArgumentNullException(nameof(streamKey)), evt ?? throw new ArgumentNullException(nameof(evt)), null, null);

    /// <summary>A rejected record.</summary>
    /// <param name="reason">A short machine-readable reason.</param>
    /// <param name="detail">What exactly is wrong.</param>
    public static KafkaDecodeResult Reject(string reason, string detail) => new(null, null, reason, detail);
}
