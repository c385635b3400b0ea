using StreamGrains.Events;

namespace StreamGrains.Grains.Tests;

/// <summary>Builds test events.</summary>
internal static class Events
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);

    public static StreamEvent At(double seconds, string type = "payment", double? value = null, string entity = "card-1", string? id = null, params (string Name, AttributeValue Value)[] attrs) => new()
    {
        Id = id ?? $"e-{seconds}",
        Entity = entity,
        Type = type,
        Timestamp = T0.AddSeconds(seconds),
        Value = value,
        Attributes = attrs.ToDictionary(a => a.Name, a => a.Value, StringComparer.Ordinal),
    };
}
