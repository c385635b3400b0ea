using System.Text.Json;
using StreamGrains.Events;

namespace StreamGrains.Context;

/// <summary>Reads context attributes: a flat JSON object of strings, numbers and booleans (as event attributes are).</summary>
public static class EntityContextJson
{
    /// <summary>The attributes of a JSON object; null and nested values are left out.</summary>
    /// <param name="element">A JSON object.</param>
    public static IReadOnlyDictionary<string, AttributeValue> ReadAttributes(JsonElement element) => StreamEventJson.ReadFlatAttributes(element);

    /// <summary>Reads a JSON object's attributes from text.</summary>
    /// <param name="json">The JSON text of an object.</param>
    public static IReadOnlyDictionary<string, AttributeValue> ReadAttributes(string json)
    {
        using var document = JsonDocument.Parse(json);
        return ReadAttributes(document.RootElement);
    }
}
