using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using StreamGrains.Events;

namespace StreamGrains.Decisions;

/// <summary>
/// The JSON of a decision record (the contract of the <c>decisions</c> topic):
/// <c>{"rule", "kind", "action", "entity", "eventId", "eventType", "eventTs", "decidedAt", "details": {...}}</c>, times
/// in RFC 3339 (UTC), kind and action by name.
/// </summary>
public static class DecisionJson
{
    /// <summary>Writes a decision as its record value.</summary>
    /// <param name="decision">The decision.</param>
    public static byte[] Serialize(Decision decision)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, decision);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes a decision as a JSON object.</summary>
    /// <param name="writer">Where to write.</param>
    /// <param name="decision">The decision.</param>
    public static void Write(Utf8JsonWriter writer, Decision decision)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(decision);
        writer.WriteStartObject();
        writer.WriteString("rule"u8, decision.Rule);
        writer.WriteString("kind"u8, decision.Kind.ToString());
        writer.WriteString("action"u8, decision.Action.ToString());
        writer.WriteString("entity"u8, decision.Entity);
        if (decision.EventId is null)
        {
            writer.WriteNull("eventId"u8);
        }
        else
        {
            writer.WriteString("eventId"u8, decision.EventId);
        }

        writer.WriteString("eventType"u8, decision.EventType);
        writer.WriteString("eventTs"u8, FormatTime(decision.EventTimestamp));
        writer.WriteString("decidedAt"u8, FormatTime(decision.DecidedAt));
        writer.WritePropertyName("details"u8);
        StreamEventJson.WriteAttributes(writer, decision.Details);
        writer.WriteEndObject();
    }

    /// <summary>Reads a decision record's value.</summary>
    /// <param name="utf8Json">The value.</param>
    /// <param name="decision">The decision, when the value is one.</param>
    /// <returns>False when the value is not a decision of this contract.</returns>
    public static bool TryParse(ReadOnlySpan<byte> utf8Json, [NotNullWhen(true)] out Decision? decision)
    {
        decision = null;
        try
        {
            var reader = new Utf8JsonReader(utf8Json);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object ||
                !TryString(root, "rule", out var rule) || !TryString(root, "entity", out var entity) || !TryString(root, "eventType", out var eventType) ||
                !TryString(root, "kind", out var kindText) || !Enum.TryParse<RuleKind>(kindText, out var kind) ||
                !TryString(root, "action", out var actionText) || !Enum.TryParse<RuleAction>(actionText, out var action) ||
                !TryTime(root, "eventTs", out var eventTs) || !TryTime(root, "decidedAt", out var decidedAt))
            {
                return false;
            }

            var details = root.TryGetProperty("details", out var detailsElement) ? StreamEventJson.ReadFlatAttributes(detailsElement) : StreamEvent.EmptyAttributes;

            decision = new Decision
            {
                Rule = rule,
                Kind = kind,
                Action = action,
                Entity = entity,
                EventId = root.TryGetProperty("eventId", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null,
                EventType = eventType,
                EventTimestamp = eventTs,
                DecidedAt = decidedAt,
                Details = details,
            };
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>A time as the contract writes it: RFC 3339 in UTC with up to seven fractional digits.</summary>
    /// <param name="time">The time.</param>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    private static bool TryString(JsonElement root, string name, out string value)
    {
        value = string.Empty;
        if (!root.TryGetProperty(name, out var element) || element.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        value = element.GetString()!;
        return true;
    }

    private static bool TryTime(JsonElement root, string name, out DateTimeOffset value)
    {
        value = default;
        return TryString(root, name, out var text) &&
               DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);
    }
}
