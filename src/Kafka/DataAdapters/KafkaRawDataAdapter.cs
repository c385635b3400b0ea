using System.Text;

namespace StreamGrains.Kafka.DataAdapters;

/// <summary>
/// The default data adapter: every record becomes a <see cref="KafkaRecord"/> on the stream named by its key (UTF-8;
/// an empty key for records without one). Publishing accepts <see cref="KafkaRecord"/>, <c>byte[]</c> and <c>string</c>.
/// </summary>
public sealed class KafkaRawDataAdapter : IKafkaDataAdapter
{
    private static readonly UTF8Encoding Utf8 = new(false, true);

    /// <inheritdoc />
    public KafkaDecodeResult Decode(KafkaInboundRecord record)
    {
        string? key;
        try
        {
            key = record.Key is null ? null : Utf8.GetString(record.Key);
        }
        catch (DecoderFallbackException)
        {
            return KafkaDecodeResult.Reject("invalid-key", "The record key is not UTF-8.");
        }

        Dictionary<string, byte[]>? headers = null;
        if (record.Headers is { Count: > 0 })
        {
            headers = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var header in record.Headers)
            {
                headers[header.Key] = header.GetValueBytes();
            }
        }

        return KafkaDecodeResult.Success(key ?? string.Empty, new KafkaRecord(key, record.Value ?? [], record.Timestamp.UnixTimestampMs, headers));
    }

    /// <inheritdoc />
    public byte[] Encode(string streamKey, object evt) => evt switch
    {
        KafkaRecord record => record.Value,
        byte[] bytes => bytes,
        string text => Utf8.GetBytes(text),
        _ => throw new NotSupportedException($"The raw Kafka data adapter writes KafkaRecord, byte[] and string events, not {evt?.GetType().FullName ?? "null"}; register an IKafkaDataAdapter for it."),
    };
}
