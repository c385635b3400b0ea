using StreamGrains.Events;

namespace StreamGrains.Context;

/// <summary><c>StreamGrains:Context:Kind</c> <c>None</c>: no entity has any context.</summary>
public sealed class NoEntityContext : IEntityContextSource
{
    /// <summary>The one instance.</summary>
    public static NoEntityContext Instance { get; } = new();

    /// <inheritdoc />
    public TimeSpan RefreshInterval => Timeout.InfiniteTimeSpan;

    /// <inheritdoc />
    public ValueTask<IReadOnlyDictionary<string, AttributeValue>> LoadAsync(string entity, CancellationToken cancellationToken) =>
        ValueTask.FromResult(StreamEvent.EmptyAttributes);
}
