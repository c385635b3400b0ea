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

    private const string Setting = $"ConnectionStrings:{StorageSettings.ConnectionStringName}";

    private PostgresStorage(NpgsqlDataSource dataSource) => DataSource = dataSource;

    /// <summary>The data source; whoever opened the storage disposes it (the silo's DI container does).</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>
    /// Grain state in PostgreSQL: the default storage (profiles and other grains) and <c>PubSubStore</c> (explicit
    /// stream subscriptions), through Orleans' ADO.NET provider on our schema.
    /// </summary>
    /// <remarks>State is written with Orleans' own serializer: see <see cref="GrainStateSerialization"/>.</remarks>
    /// <param name="silo">The silo.</param>
    /// <param name="connectionString">The connection string.</param>
    public static void AddGrainStorage(ISiloBuilder silo, string connectionString)
    {
        GrainStateSerialization.UseOrleansSerializer(silo);
        silo.AddAdoNetGrainStorageAsDefault(o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connectionString;
        });
        silo.AddAdoNetGrainStorage("PubSubStore", o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connectionString;
        });
    }

    /// <exception cref="StreamGrainsSilo.ConfigurationException">
    /// The connection string is malformed, PostgreSQL does not answer, or its schema cannot be brought up to date.
    /// </exception>
    public static PostgresStorage Open(string connectionString, StorageSettings settings)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString) { Timeout = (int)Math.Ceiling(settings.ConnectTimeout.TotalSeconds) };
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            throw new StreamGrainsSilo.ConfigurationException([$"{Setting}: not a valid PostgreSQL connection string: {ex.Message.ReplaceLineEndings(" ")}"]);
        }

        var server = $"{builder.Host}:{builder.Port}/{builder.Database}";
        var dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        try
        {
            try
            {
                using (dataSource.OpenConnection())
                {
                    // It answers.
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
            {
                throw new StreamGrainsSilo.ConfigurationException([$"{Setting}: PostgreSQL at {server} cannot be used: {Reason(ex)}"]);
            }

            var migrator = new PostgresMigrator(dataSource, StartupLog.Factory.CreateLogger<PostgresMigrator>());
            try
            {
                if (settings.MigrateOnStart)
                {
                    migrator.MigrateAsync().GetAwaiter().GetResult();
                }
                else if (migrator.CurrentVersionAsync().GetAwaiter().GetResult() < PostgresMigrator.LatestVersion)
                {
                    throw new StreamGrainsSilo.ConfigurationException([$"{StreamGrainsOptions.SectionName}:Storage:MigrateOnStart: false, and the database at {server} is not at schema version {PostgresMigrator.LatestVersion}; run 'dotnet run --project src/Silo -- migrate' first."]);
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
            {
                throw new StreamGrainsSilo.ConfigurationException([$"{Setting}: the database at {server} could not be brought to schema version {PostgresMigrator.LatestVersion}: {Reason(ex)}"]);
            }

            return new PostgresStorage(dataSource);
        }
        catch
        {
            dataSource.Dispose();
            throw;
        }
    }

    /// <summary>Host, port and database of a connection string, without its password.</summary>
    public static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{builder.Host}:{builder.Port}/{builder.Database}";
    }

    private static string Reason(Exception ex) =>
        (ex is PostgresException postgres ? $"{postgres.MessageText} ({postgres.SqlState})" : ex.InnerException?.Message ?? ex.Message).ReplaceLineEndings(" ");
}
