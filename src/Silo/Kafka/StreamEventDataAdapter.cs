using StreamGrains.Events;
using StreamGrains.Kafka.DataAdapters;

namespace StreamGrains.Silo.Kafka;

/// <summary>
/// Plugs the platform's event contract into the Kafka stream provider: a record's value is the contract's JSON and its
/// key the entity; a record that breaks the contract is rejected with the contract's reason code (and dead-lettered).
/// </summary>
public sealed class StreamEventDataAdapter : IKafkaDataAdapter
{
    /// <inheritdoc />
    public KafkaDecodeResult Decode(KafkaInboundRecord record)
    {
        string? key = null;
        if (record.Key is { Length: > 0 } keyBytes)
        {
            try
            {
                key = StreamEventJson.Encoding.GetString(keyBytes);
            }
            catch (System.Text.DecoderFallbackException)
            {
                return KafkaDecodeResult.Reject(EventRejection.InvalidField, "The record key (the entity id) is not UTF-8.");
            }
        }

        if (record.Value is null || record.Value.Length == 0)
        {
            return KafkaDecodeResult.Reject(EventRejection.InvalidJson, "The record has no value.");
        }

        return StreamEventJson.TryParse(record.Value, key, out var evt, out var rejection)
            ? KafkaDecodeResult.Success(evt.Entity, evt)
            : KafkaDecodeResult.Reject(rejection.Reason, rejection.Detail);
    }

    /// <inheritdoc />
    public byte[] Encode(string streamKey, object evt) => evt switch
    {
        StreamEvent e when e.Entity == streamKey => StreamEventJson.Serialize(e),
        StreamEvent e => throw new ArgumentException($"An event about '{e.Entity}' cannot be published to the stream of '{streamKey}': the key is the entity.", nameof(evt)),
        _ => throw new NotSupportedException($"Streams of the platform carry {nameof(StreamEvent)}, not {evt?.GetType().FullName ?? "null"}."),
    };
}
