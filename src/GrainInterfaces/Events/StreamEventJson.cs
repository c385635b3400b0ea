using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace StreamGrains.Events;

/// <summary>
/// Reads and writes the event contract: UTF-8 JSON with <c>entity</c> and <c>type</c> (required strings),
/// <c>ts</c> (required, RFC 3339 with an offset or integer epoch milliseconds), optional <c>id</c>, <c>value</c> (number)
/// and <c>attrs</c> (a flat object of strings, numbers and booleans). Unknown fields are ignored.
/// </summary>
/// <remarks>
/// The Kafka record key is the entity id. When the key is missing the <c>entity</c> field is used; when both are
/// present they must agree, or the record is rejected, since key and entity would otherwise route one entity's
/// events to different partitions and grains.
/// </remarks>
public static class StreamEventJson
{
    private static readonly JsonReaderOptions ReaderOptions = new() { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 8 };

    /// <summary>Parses one record's value.</summary>
    /// <param name="utf8Json">The record value.</param>
    /// <param name="key">The record key, if any.</param>
    /// <param name="result">The event, when the record is valid.</param>
    /// <param name="rejection">Why the record was rejected, when it is not.</param>
    /// <returns>True when the record is a valid event.</returns>
    public static bool TryParse(
        ReadOnlySpan<byte> utf8Json,
        string? key,
        [NotNullWhen(true)] out StreamEvent? result,
        [NotNullWhen(false)] out EventRejection? rejection)
    {
        result = null;
        try
        {
            return TryParseCore(utf8Json, key, out result, out rejection);
        }
        catch (JsonException ex)
        {
            rejection = new EventRejection(EventRejection.InvalidJson, $"Not valid JSON: {ex.Message}");
            return false;
        }
        catch (InvalidOperationException ex)
        {
            // Utf8JsonReader throws this for invalid UTF-8 inside strings.
            rejection = new EventRejection(EventRejection.InvalidJson, $"Not valid UTF-8 JSON: {ex.Message}");
            return false;
        }
    }

    /// <summary>Parses one record's value, throwing <see cref="FormatException"/> when it is not a valid event.</summary>
    /// <param name="utf8Json">The record value.</param>
    /// <param name="key">The record key, if any.</param>
    public static StreamEvent Parse(ReadOnlySpan<byte> utf8Json, string? key = null) =>
        TryParse(utf8Json, key, out var result, out var rejection) ? result : throw new FormatException(rejection.ToString());

    private static bool TryParseCore(
        ReadOnlySpan<byte> utf8Json,
        string? key,
        out StreamEvent? result,
        out EventRejection? rejection)
    {
        result = null;
        var reader = new Utf8JsonReader(utf8Json, ReaderOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            rejection = new EventRejection(EventRejection.InvalidJson, "The record value must be a JSON object.");
            return false;
        }

        string? id = null, entity = null, type = null;
        DateTimeOffset? timestamp = null;
        double? value = null;
        Dictionary<string, AttributeValue>? attributes = null;

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = FieldOf(ref reader);
            reader.Read();
            var isNull = reader.TokenType == JsonTokenType.Null;
            switch (field)
            {
                case Field.Id when !isNull:
                    if (!ReadString(ref reader, "id", 1, MaxIdLength, out id, out rejection))
                    {
                        return Fault(ref rejection, "id");
                    }

                    break;
                case Field.Entity when !isNull:
                    if (!ReadString(ref reader, "entity", 1, StreamEvent.MaxEntityLength, out entity, out rejection))
                    {
                        return Fault(ref rejection, "entity");
                    }

                    break;
                case Field.Type when !isNull:
                    if (!ReadString(ref reader, "type", 1, StreamEvent.MaxTypeLength, out type, out rejection))
                    {
                        return Fault(ref rejection, "type");
                    }

                    break;
                case Field.Timestamp when !isNull:
                    if (!ReadTimestamp(ref reader, out timestamp, out rejection))
                    {
                        return Fault(ref rejection, "ts");
                    }

                    break;
                case Field.Value when !isNull:
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out var number) || !double.IsFinite(number))
                    {
                        rejection = Invalid("value must be a finite number.") with { Fields = ["value"] };
                        return false;
                    }

                    value = number;
                    break;
                case Field.Attributes when !isNull:
                    if (!ReadAttributes(ref reader, out attributes, out rejection))
                    {
                        return Fault(ref rejection, "attrs");
                    }

                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject)
        {
            rejection = new EventRejection(EventRejection.InvalidJson, "The JSON object is not closed.");
            return false;
        }

        if (reader.Read())
        {
            rejection = new EventRejection(EventRejection.InvalidJson, "Unexpected content after the JSON object.");
            return false;
        }

        if (!string.IsNullOrEmpty(key))
        {
            if (key.Length > StreamEvent.MaxEntityLength)
            {
                rejection = Invalid($"The record key (the entity id) must be 1 to {StreamEvent.MaxEntityLength} characters, was {key.Length}.");
                return false;
            }

            if (key.Contains('\0', StringComparison.Ordinal))
            {
                rejection = Invalid("The record key (the entity id) must not contain the character U+0000.");
                return false;
            }

            if (entity is not null && !string.Equals(entity, key, StringComparison.Ordinal))
            {
                rejection = new EventRejection(EventRejection.EntityMismatch, $"The record key '{Truncate(key)}' and the entity field '{Truncate(entity)}' differ.") { Fields = ["entity"] };
                return false;
            }

            entity = key;
        }

        if (entity is null || type is null || timestamp is null)
        {
            var missing = new[] { entity is null ? "entity" : null, type is null ? "type" : null, timestamp is null ? "ts" : null };
            var named = missing.OfType<string>().ToList();
            rejection = new EventRejection(EventRejection.MissingField, $"Required field(s) missing: {string.Join(", ", named)}.") { Fields = named };
            return false;
        }

        result = new StreamEvent
        {
            Id = id,
            Entity = entity,
            Type = type,
            Timestamp = timestamp.Value,
            Value = value,
            Attributes = attributes ?? StreamEvent.EmptyAttributes,
        };
        rejection = null;
        return true;
    }

    /// <summary>Names the field a rejection is about (the attribute, for attributes) and fails.</summary>
    private static bool Fault(ref EventRejection? rejection, string field)
    {
        rejection = rejection! with { Fields = rejection.Fields ?? [field] };
        return false;
    }

    /// <summary>The longest event id accepted.</summary>
    public const int MaxIdLength = 256;

    /// <summary>The most attributes one event may carry.</summary>
    public const int MaxAttributes = 64;

    /// <summary>Writes an event as the contract's JSON (timestamps as RFC 3339 in UTC, millisecond precision or finer).</summary>
    /// <param name="evt">The event.</param>
    public static byte[] Serialize(StreamEvent evt)
    {
        var buffer = new ArrayBufferWriter<byte>(192);
        Write(evt, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes an event as the contract's JSON into a buffer.</summary>
    /// <param name="evt">The event.</param>
    /// <param name="output">Where to write.</param>
    public static void Write(StreamEvent evt, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(evt);
        using var writer = new Utf8JsonWriter(output);
        writer.WriteStartObject();
        WriteMembers(writer, evt);
        writer.WriteEndObject();
    }

    /// <summary>Writes the members of an event's contract JSON into an object already started (to add members of one's own).</summary>
    /// <param name="writer">Where to write.</param>
    /// <param name="evt">The event.</param>
    public static void WriteMembers(Utf8JsonWriter writer, StreamEvent evt)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(evt);
        if (evt.Id is not null)
        {
            writer.WriteString("id"u8, evt.Id);
        }

        writer.WriteString("entity"u8, evt.Entity);
        writer.WriteString("type"u8, evt.Type);
        writer.WriteString("ts"u8, evt.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture));
        if (evt.Value is { } value)
        {
            writer.WriteNumber("value"u8, value);
        }

        if (evt.Attributes.Count > 0)
        {
            writer.WritePropertyName("attrs"u8);
            WriteAttributes(writer, evt.Attributes);
        }
    }

    /// <summary>
    /// Reads a flat JSON object of strings, numbers and booleans as attributes, leniently: null, nested and other
    /// values are left out (for documents beside the contract, such as context rows and decision details).
    /// </summary>
    /// <param name="element">A JSON object; anything else reads as no attributes.</param>
    public static IReadOnlyDictionary<string, AttributeValue> ReadFlatAttributes(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return StreamEvent.EmptyAttributes;
        }

        var attributes = new Dictionary<string, AttributeValue>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            switch (property.Value.ValueKind)
            {
                case JsonValueKind.String:
                    attributes[property.Name] = property.Value.GetString()!;
                    break;
                case JsonValueKind.Number:
                    attributes[property.Name] = property.Value.GetDouble();
                    break;
                case JsonValueKind.True or JsonValueKind.False:
                    attributes[property.Name] = property.Value.GetBoolean();
                    break;
            }
        }

        return attributes;
    }

    /// <summary>Writes attributes as the contract's flat JSON object: strings, numbers and booleans.</summary>
    /// <param name="writer">Where to write.</param>
    /// <param name="attributes">The attributes.</param>
    public static void WriteAttributes(Utf8JsonWriter writer, IReadOnlyDictionary<string, AttributeValue> attributes)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(attributes);
        writer.WriteStartObject();
        foreach (var (name, attribute) in attributes)
        {
            switch (attribute.Kind)
            {
                case AttributeKind.Text:
                    writer.WriteString(name, attribute.Text);
                    break;
                case AttributeKind.Flag:
                    writer.WriteBoolean(name, attribute.Flag);
                    break;
                default:
                    writer.WriteNumber(name, attribute.Number);
                    break;
            }
        }

        writer.WriteEndObject();
    }

    private enum Field
    {
        Other,
        Id,
        Entity,
        Type,
        Timestamp,
        Value,
        Attributes,
    }

    private static Field FieldOf(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped)
        {
            return reader.GetString() switch
            {
                "id" => Field.Id,
                "entity" => Field.Entity,
                "type" => Field.Type,
                "ts" => Field.Timestamp,
                "value" => Field.Value,
                "attrs" => Field.Attributes,
                _ => Field.Other,
            };
        }

        var name = reader.ValueSpan;
        return name.SequenceEqual("id"u8) ? Field.Id
            : name.SequenceEqual("entity"u8) ? Field.Entity
            : name.SequenceEqual("type"u8) ? Field.Type
            : name.SequenceEqual("ts"u8) ? Field.Timestamp
            : name.SequenceEqual("value"u8) ? Field.Value
            : name.SequenceEqual("attrs"u8) ? Field.Attributes
            : Field.Other;
    }

    private static bool ReadString(ref Utf8JsonReader reader, string name, int min, int max, out string? value, out EventRejection? rejection)
    {
        value = null;
        if (reader.TokenType != JsonTokenType.String)
        {
            rejection = Invalid($"{name} must be a string.");
            return false;
        }

        value = reader.GetString()!;
        if (value.Length < min || value.Length > max)
        {
            rejection = Invalid($"{name} must be {min} to {max} characters, was {value.Length}.");
            value = null;
            return false;
        }

        if (value.Contains('\0', StringComparison.Ordinal))
        {
            rejection = Invalid($"{name} must not contain the character U+0000.");
            value = null;
            return false;
        }

        rejection = null;
        return true;
    }

    private static bool ReadTimestamp(ref Utf8JsonReader reader, out DateTimeOffset? timestamp, out EventRejection? rejection)
    {
        timestamp = null;
        rejection = null;
        if (reader.TokenType == JsonTokenType.Number)
        {
            if (reader.TryGetInt64(out var epochMs) && epochMs >= MinEpochMs && epochMs <= MaxEpochMs)
            {
                timestamp = DateTimeOffset.FromUnixTimeMilliseconds(epochMs);
                return true;
            }

            rejection = Invalid("ts as a number must be whole epoch milliseconds between years 1970 and 9999.");
            return false;
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            // The reader's ISO 8601 parser is fast; RFC 3339 also wants the 'T' and an explicit offset.
            var raw = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan;
            if (!reader.ValueIsEscaped && HasOffset(raw) && raw.Length > 10 && (raw[10] | 0x20) == 't' && reader.TryGetDateTimeOffset(out var parsed))
            {
                timestamp = parsed;
                return true;
            }

            rejection = Invalid($"ts must be RFC 3339 with an offset (e.g. 2026-11-24T10:00:00.123Z), was '{Truncate(reader.GetString()!)}'.");
            return false;
        }

        rejection = Invalid("ts must be an RFC 3339 string or integer epoch milliseconds.");
        return false;
    }

    private const long MinEpochMs = 0;
    private const long MaxEpochMs = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

    private static bool HasOffset(ReadOnlySpan<byte> text)
    {
        if (text.Length < 20)
        {
            return false;
        }

        var last = text[^1];
        if (last is (byte)'Z' or (byte)'z')
        {
            return true;
        }

        // ...+hh:mm or ...-hh:mm
        return text.Length >= 25 && text[^6] is (byte)'+' or (byte)'-' && text[^3] == (byte)':';
    }

    private static bool ReadAttributes(ref Utf8JsonReader reader, out Dictionary<string, AttributeValue>? attributes, out EventRejection? rejection)
    {
        attributes = null;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            rejection = Invalid("attrs must be a JSON object.");
            return false;
        }

        attributes = new Dictionary<string, AttributeValue>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            AttributeValue attribute;
            switch (reader.TokenType)
            {
                case JsonTokenType.String:
                    var text = reader.GetString()!;
                    if (text.Contains('\0', StringComparison.Ordinal))
                    {
                        rejection = Invalid($"attrs.{Truncate(name)} must not contain the character U+0000.");
                        attributes = null;
                        return false;
                    }

                    attribute = AttributeValue.FromString(text);
                    break;
                case JsonTokenType.Number when reader.TryGetDouble(out var number) && double.IsFinite(number):
                    attribute = AttributeValue.FromNumber(number);
                    break;
                case JsonTokenType.True:
                case JsonTokenType.False:
                    attribute = AttributeValue.FromBoolean(reader.GetBoolean());
                    break;
                default:
                    rejection = Invalid($"attrs.{Truncate(name)} must be a string, a finite number or a boolean (attrs is flat).");
                    attributes = null;
                    return false;
            }

            if (name.Length is 0 or > StreamEvent.MaxTypeLength)
            {
                rejection = Invalid($"attribute names must be 1 to {StreamEvent.MaxTypeLength} characters.");
                attributes = null;
                return false;
            }

            if (name.Contains('\0', StringComparison.Ordinal))
            {
                rejection = Invalid("attribute names must not contain the character U+0000.");
                attributes = null;
                return false;
            }

            attributes[name] = attribute;
            if (attributes.Count > MaxAttributes)
            {
                rejection = Invalid($"attrs may hold at most {MaxAttributes} attributes.");
                attributes = null;
                return false;
            }
        }

        rejection = null;
        return true;
    }

    private static EventRejection Invalid(string detail) => new(EventRejection.InvalidField, detail);

    private static string Truncate(string text) => text.Length <= 64 ? text : string.Concat(text.AsSpan(0, 61), "...");

    /// <summary>The UTF-8 encoding used for keys and values.</summary>
    public static Encoding Encoding { get; } = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
