using Npgsql;
using StreamGrains.Silo.Tests.Infrastructure;
using StreamGrains.Testing;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary><c>dotnet run --project src/Silo -- migrate</c>: the schema on its own, before silos roll out.</summary>
public sealed class MigrateCommandTests
{
    [Fact]
    public async Task Migrate_brings_the_database_to_the_latest_schema_and_running_it_again_is_harmless()
    {
        var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync("migrate");

        foreach (var run in new[] { 1, 2 })
        {
            await using var migrate = ChildProcess.StartDll(RepositoryPaths.SiloDll, ["migrate", "--ConnectionStrings:StreamGrains", connectionString]);
            Assert.Equal(0, await migrate.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains($"is at schema version {StreamGrains.Storage.PostgresMigrator.LatestVersion}.", migrate.Output, StringComparison.Ordinal);
            Assert.Equal(run == 1, migrate.Output.Contains("Applied schema migration", StringComparison.Ordinal));
        }

        await using var data = NpgsqlDataSource.Create(connectionString);
        await using var command = data.CreateCommand("SELECT count(*) FROM streamgrains_schema");
        Assert.Equal((long)StreamGrains.Storage.PostgresMigrator.Migrations.Count, (long)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task Migrate_without_a_connection_string_says_which_setting_is_missing()
    {
        await using var migrate = ChildProcess.StartDll(RepositoryPaths.SiloDll, ["migrate"]);
        Assert.Equal(2, await migrate.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.StartsWith("Invalid configuration: ConnectionStrings:StreamGrains: required to migrate", migrate.Errors.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_with_a_malformed_connection_string_names_the_setting()
    {
        await using var migrate = ChildProcess.StartDll(RepositoryPaths.SiloDll, ["migrate", "--ConnectionStrings:StreamGrains", "Host=localhost;Bogus Key=1"]);
        Assert.Equal(2, await migrate.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var errors = migrate.Errors.Trim();
        Assert.StartsWith("Invalid configuration: ConnectionStrings:StreamGrains: not a valid PostgreSQL connection string:", errors, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', errors);
    }

    [Fact]
    public async Task Migrate_gives_up_on_a_server_that_never_answers_after_the_connect_timeout()
    {
        // A port that accepts connections and then says nothing, as a hung server or a black-holing proxy would.
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await using var migrate = ChildProcess.StartDll(RepositoryPaths.SiloDll, ["migrate", "--ConnectionStrings:StreamGrains", $"Host=127.0.0.1;Port={port};Username=nobody;Database=nothing", "--StreamGrains:Storage:ConnectTimeout", "00:00:02"]);
        Assert.Equal(2, await migrate.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.StartsWith($"Invalid configuration: ConnectionStrings:StreamGrains: PostgreSQL at 127.0.0.1:{port}/nothing cannot be used:", migrate.Errors.Trim(), StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(8), $"took {watch.Elapsed} with a 2 s connect timeout (the default is 10 s)");
    }

    [Fact]
    public async Task A_migration_that_fails_is_reported_as_such_and_applies_nothing_of_itself()
    {
        var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync("migrate-conflict");
        await using var data = NpgsqlDataSource.Create(connectionString);
        await using (var conflict = data.CreateCommand("CREATE TABLE events (something int)"))
        {
            await conflict.ExecuteNonQueryAsync(); // not our events table: the archive's migration cannot index it
        }

        await using var migrate = ChildProcess.StartDll(RepositoryPaths.SiloDll, ["migrate", "--ConnectionStrings:StreamGrains", connectionString]);
        Assert.Equal(2, await migrate.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var errors = migrate.Errors.Trim();
        Assert.StartsWith($"Invalid configuration: ConnectionStrings:StreamGrains: the database at ", errors, StringComparison.Ordinal);
        Assert.Contains($"could not be brought to schema version {StreamGrains.Storage.PostgresMigrator.LatestVersion}:", errors, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', errors);
        await using var version = data.CreateCommand("SELECT max(version) FROM streamgrains_schema");
        var archive = StreamGrains.Storage.PostgresMigrator.Migrations.Single(m => m.Version == 5); // 0005_streamgrains_archive.sql fails
        Assert.Equal(archive.Version - 1, (int)(await version.ExecuteScalarAsync())!); // what came before stays, nothing of it or after
    }
}
