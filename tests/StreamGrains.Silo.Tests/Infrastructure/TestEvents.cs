using StreamGrains.Events;

namespace StreamGrains.Silo.Tests.Infrastructure;

/// <summary>The events the silo-process tests produce: payments at seconds after a fixed start.</summary>
internal static class TestEvents
{
    /// <summary>The event time the tests count from.</summary>
    public static readonly DateTimeOffset T0 = new(2026, 1, 5, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A payment of <paramref name="card"/> with value 1, <paramref name="seconds"/> after <see cref="T0"/>, at <paramref name="merchant"/> if given.</summary>
    public static StreamEvent Payment(string id, string card, double seconds, string? merchant = null) => new()
    {
        Id = id,
        Entity = card,
        Type = "payment",
        Timestamp = T0.AddSeconds(seconds),
        Value = 1,
        Attributes = merchant is null ? StreamEvent.EmptyAttributes : new Dictionary<string, AttributeValue> { ["merchant"] = merchant },
    };
}
