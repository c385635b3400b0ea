using StreamGrains.Events;

namespace StreamGrains.Silo.Api;

/// <summary>How the API writes the platform's values as JSON.</summary>
internal static class ApiValues
{
    /// <summary>Attributes as a JSON object of strings, numbers and booleans.</summary>
    public static Dictionary<string, object> Attributes(IReadOnlyDictionary<string, AttributeValue> attributes) =>
        attributes.ToDictionary(
            a => a.Key,
            a => a.Value.Kind switch
            {
                AttributeKind.Text => (object)(a.Value.Text ?? string.Empty),
                AttributeKind.Flag => a.Value.Flag,
                _ => a.Value.Number,
            },
            StringComparer.Ordinal);

    /// <summary>Checks an entity id from a route or query: an error message, or null when it is fine.</summary>
    public static string? EntityError(string? entity) =>
        string.IsNullOrEmpty(entity) || entity.Length > StreamEvent.MaxEntityLength
            ? $"entity must be 1 to {StreamEvent.MaxEntityLength} characters."
            : null;
}
