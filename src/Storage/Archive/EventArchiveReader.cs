using Npgsql;

namespace StreamGrains.Storage.Archive;

/// <summary>Reads the event archive: an entity's events, or everyone's, in a time range, newest first.</summary>
/// <param name="dataSource">The platform's PostgreSQL.</param>
public sealed class EventArchiveReader(NpgsqlDataSource dataSource)
{
    /// <summary>The most events one query returns.</summary>
    public const int MaxLimit = 1_000;

    /// <summary>The archived events matching the filter, newest first (by event time, then offset).</summary>
    /// <param name="entity">Only this entity's events; null: every entity.</param>
    /// <param name="from">Only events at or after this time.</param>
    /// <param name="to">Only events before this time.</param>
    /// <param name="limit">At most this many (1 to <see cref="MaxLimit"/>).</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    public async Task<IReadOnlyList<ArchivedEvent>> QueryAsync(string? entity, DateTimeOffset? from, DateTimeOffset? to, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxLimit);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            """
            SELECT topic, partition, "offset", id, entity, type, ts, value, attrs::text
            FROM events
            WHERE (@entity::text IS NULL OR entity = @entity)
              AND (@from::timestamptz IS NULL OR ts >= @from)
              AND (@to::timestamptz IS NULL OR ts < @to)
            ORDER BY ts DESC, "offset" DESC
            LIMIT @limit
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter("entity", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)entity ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("from", NpgsqlTypes.NpgsqlDbType.TimestampTz) { Value = (object?)from?.UtcDateTime ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("to", NpgsqlTypes.NpgsqlDbType.TimestampTz) { Value = (object?)to?.UtcDateTime ?? DBNull.Value });
        command.Parameters.AddWithValue("limit", limit);
        var events = new List<ArchivedEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            events.Add(new ArchivedEvent(
                reader.GetString(0),
                reader.GetInt32(1),
                reader.GetInt64(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.GetString(4),
                reader.GetString(5),
                new DateTimeOffset(reader.GetDateTime(6), TimeSpan.Zero),
                reader.IsDBNull(7) ? null : reader.GetDouble(7),
                reader.IsDBNull(8) ? null : reader.GetString(8)));
        }

        return events;
    }
}
