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
}
