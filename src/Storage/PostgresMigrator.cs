using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace StreamGrains.Storage;

/// <summary>
/// Brings a PostgreSQL database to the platform's schema: Orleans' ADO.NET tables and queries (clustering, grain
/// state, reminders) and the event archive. The scripts are numbered; each is applied once, in order, in a transaction
/// of its own, and recorded in <c>streamgrains_schema</c>, so a newer silo upgrades an older schema and running twice
/// changes nothing. Silos starting together take turns (a PostgreSQL advisory lock). The scripts are idempotent too.
/// </summary>
public sealed partial class PostgresMigrator(NpgsqlDataSource dataSource, ILogger<PostgresMigrator> logger)
{
    private const long LockKey = 0x5347_5343_4845_4D41; // "SGSCHEMA"

    /// <summary>The migrations this build knows, in order.</summary>
    public static IReadOnlyList<PostgresMigration> Migrations { get; } = LoadMigrations();

    /// <summary>The newest schema version this build knows.</summary>
    public static int LatestVersion => Migrations[^1].Version;

    /// <summary>Applies every migration not applied yet, up to <paramref name="upTo"/> (all by default).</summary>
    /// <returns>The migrations applied now.</returns>
    /// <exception cref="NpgsqlException">The database cannot be reached or a script fails (nothing of that script is kept).</exception>
    public async Task<IReadOnlyList<PostgresMigration>> MigrateAsync(int? upTo = null, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, $"SELECT pg_advisory_lock({LockKey})", cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(
                connection,
                null,
                """
                CREATE TABLE IF NOT EXISTS streamgrains_schema
                (
                    version    integer     NOT NULL PRIMARY KEY,
                    name       text        NOT NULL,
                    checksum   text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """,
                cancellationToken).ConfigureAwait(false);

            var applied = await AppliedAsync(connection, cancellationToken).ConfigureAwait(false);
            var done = new List<PostgresMigration>();
            foreach (var migration in Migrations.Where(m => m.Version <= (upTo ?? int.MaxValue)))
            {
                if (applied.TryGetValue(migration.Version, out var checksum))
                {
                    if (checksum != migration.Checksum)
                    {
                        LogChanged(logger, migration.Name);
                    }

                    continue;
                }

                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, transaction, migration.Script, cancellationToken).ConfigureAwait(false);
                await using (var record = new NpgsqlCommand("INSERT INTO streamgrains_schema (version, name, checksum) VALUES (@version, @name, @checksum)", connection, transaction))
                {
                    record.Parameters.AddWithValue("version", migration.Version);
                    record.Parameters.AddWithValue("name", migration.Name);
                    record.Parameters.AddWithValue("checksum", migration.Checksum);
                    await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                LogApplied(logger, migration.Name);
                done.Add(migration);
            }

            return done;
        }
        finally
        {
            await ExecuteAsync(connection, null, $"SELECT pg_advisory_unlock({LockKey})", CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>The schema version of the database: the newest migration applied, or 0.</summary>
    public async Task<int> CurrentVersionAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM streamgrains_schema", connection);
        try
        {
            return (int)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return 0;
        }
    }

    private static async Task<Dictionary<int, string>> AppliedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var applied = new Dictionary<int, string>();
        await using var command = new NpgsqlCommand("SELECT version, checksum FROM streamgrains_schema", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            applied[reader.GetInt32(0)] = reader.GetString(1);
        }

        return applied;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static List<PostgresMigration> LoadMigrations()
    {
        const string prefix = "StreamGrains.Storage.Migrations.";
        var assembly = typeof(PostgresMigrator).Assembly;
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n =>
            {
                var name = n[prefix.Length..];
                using var stream = assembly.GetManifestResourceStream(n)!;
                using var reader = new StreamReader(stream, Encoding.UTF8);
                var script = reader.ReadToEnd();
                var version = int.Parse(name.AsSpan(0, name.IndexOf('_', StringComparison.Ordinal)), System.Globalization.CultureInfo.InvariantCulture);
                return new PostgresMigration(version, name, script, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(script))));
            })
            .OrderBy(m => m.Version)
            .ToList();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied schema migration {Migration}")]
    private static partial void LogApplied(ILogger logger, string migration);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Schema migration {Migration} was applied from a different text; it is not applied again")]
    private static partial void LogChanged(ILogger logger, string migration);
}

/// <summary>One numbered schema script.</summary>
/// <param name="Version">Its number: scripts apply in this order.</param>
/// <param name="Name">Its file name.</param>
/// <param name="Script">Its SQL.</param>
/// <param name="Checksum">The SHA-256 of its SQL, recorded when applied.</param>
public sealed record PostgresMigration(int Version, string Name, string Script, string Checksum);
