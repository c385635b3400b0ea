using Npgsql;
using StreamGrains.Silo.Configuration;
using StreamGrains.Silo.Hosting;
using StreamGrains.Storage;

namespace StreamGrains.Silo.Storage;

/// <summary>
/// The silo's PostgreSQL, checked before anything starts: it answers, and its schema is this build's (migrated unless
/// <c>Storage:MigrateOnStart</c> is false). Failures stop start-up with one line that names the setting.
/// </summary>
internal sealed class PostgresStorage
{
    /// <summary>The ADO.NET invariant Orleans' providers load Npgsql by.</summary>
    public const string Invariant = "Npgsql";

    private PostgresStorage(NpgsqlDataSource dataSource) => DataSource = dataSource;

    public NpgsqlDataSource DataSource { get; }

    /// <exception cref="StreamGrainsSilo.ConfigurationException">PostgreSQL does not answer, or its schema cannot be brought up to date.</exception>
    public static PostgresStorage Open(string connectionString, StorageSettings settings)
    {
        var dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { Timeout = (int)Math.Ceiling(settings.ConnectTimeout.TotalSeconds) }.ConnectionString);
        var server = Describe(connectionString);
        try
        {
            using (var connection = dataSource.OpenConnection())
            {
                // It answers.
            }

            var migrator = new PostgresMigrator(dataSource, StartupLog.Factory.CreateLogger<PostgresMigrator>());
            if (settings.MigrateOnStart)
            {
                migrator.MigrateAsync().GetAwaiter().GetResult();
            }
            else if (migrator.CurrentVersionAsync().GetAwaiter().GetResult() < PostgresMigrator.LatestVersion)
            {
                throw new StreamGrainsSilo.ConfigurationException([$"{StreamGrainsOptions.SectionName}:Storage:MigrateOnStart: false, and the database at {server} is not at schema version {PostgresMigrator.LatestVersion}; run 'dotnet run --project src/Silo -- migrate' first."]);
            }

            return new PostgresStorage(dataSource);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            dataSource.Dispose();
            throw new StreamGrainsSilo.ConfigurationException([$"ConnectionStrings:{StorageSettings.ConnectionStringName}: PostgreSQL at {server} cannot be used: {Reason(ex)}"]);
        }
    }

    /// <summary>Host, port and database of a connection string, without its password.</summary>
    public static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{builder.Host}:{builder.Port}/{builder.Database}";
    }

    private static string Reason(Exception ex) =>
        (ex is PostgresException postgres ? postgres.MessageText : ex.InnerException?.Message ?? ex.Message).ReplaceLineEndings(" ");
}
