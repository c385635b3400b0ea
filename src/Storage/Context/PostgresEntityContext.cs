using Npgsql;
using StreamGrains.Context;
using StreamGrains.Events;

namespace StreamGrains.Storage.Context;

/// <summary>
/// <c>StreamGrains:Context:Kind</c> <c>Postgres</c>: an entity's context is its row of <c>entity_context(entity,
/// attrs jsonb, updated_at)</c>, read by primary key when its profile activates and every refresh interval after.
/// </summary>
public sealed class PostgresEntityContext(NpgsqlDataSource dataSource, TimeSpan refreshInterval) : IEntityContextSource
{
    /// <inheritdoc />
    public TimeSpan RefreshInterval => refreshInterval;

    /// <inheritdoc />
    public async ValueTask<IReadOnlyDictionary<string, AttributeValue>> LoadAsync(string entity, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT attrs::text FROM entity_context WHERE entity = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = entity });
        return await command.ExecuteScalarAsync(cancellationToken) is string json
            ? EntityContextJson.ReadAttributes(json)
            : StreamEvent.EmptyAttributes;
    }
}
