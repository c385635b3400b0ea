using StreamGrains.Events;

namespace StreamGrains.Context;

/// <summary>
/// The external store of entity context (customer data, home country, limits...) that profiles load on activation
/// and refresh every <see cref="RefreshInterval"/>: <c>StreamGrains:Context</c>.
/// </summary>
public interface IEntityContextSource
{
    /// <summary>How often a profile reloads its context.</summary>
    TimeSpan RefreshInterval { get; }

    /// <summary>The context of <paramref name="entity"/>; empty when the store knows nothing of it.</summary>
    /// <param name="entity">The entity.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    ValueTask<IReadOnlyDictionary<string, AttributeValue>> LoadAsync(string entity, CancellationToken cancellationToken);
}
