using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using StreamGrains.Testing;

namespace StreamGrains.Storage.Tests;

public sealed class PostgresMigratorTests
{
    private static async Task<(NpgsqlDataSource Data, PostgresMigrator Migrator)> FreshAsync()
    {
        var server = await PostgresServer.Shared;
        var data = NpgsqlDataSource.Create(await server.CreateDatabaseAsync("migrations"));
        return (data, new PostgresMigrator(data, NullLogger<PostgresMigrator>.Instance));
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlDataSource data, string sql)
    {
        await using var command = data.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Every_migration_applies_once_and_running_again_changes_nothing()
    {
        var (data, migrator) = await FreshAsync();
        await using var _ = data;

        var first = await migrator.MigrateAsync();
        var second = await migrator.MigrateAsync();

        Assert.Equal(PostgresMigrator.Migrations.Select(m => m.Name), first.Select(m => m.Name));
        Assert.Empty(second);
        Assert.Equal(PostgresMigrator.LatestVersion, await migrator.CurrentVersionAsync());
        Assert.Equal(PostgresMigrator.Migrations.Count, (int)await ScalarAsync<long>(data, "SELECT count(*) FROM streamgrains_schema"));

        // The scripts themselves are idempotent too: applied again by hand, they change nothing and fail nowhere.
        var queries = await ScalarAsync<long>(data, "SELECT count(*) FROM OrleansQuery");
        foreach (var migration in PostgresMigrator.Migrations)
        {
            await using var again = data.CreateCommand(migration.Script);
            await again.ExecuteNonQueryAsync();
        }

        Assert.Equal(queries, await ScalarAsync<long>(data, "SELECT count(*) FROM OrleansQuery"));
    }

    [Fact]
    public async Task A_newer_build_upgrades_an_older_schema()
    {
        var (data, migrator) = await FreshAsync();
        await using var _ = data;

        await migrator.MigrateAsync(upTo: 2); // what an older silo left: Orleans' main table and clustering only
        Assert.Equal(2, await migrator.CurrentVersionAsync());
        Assert.Equal(0L, await ScalarAsync<long>(data, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'events'"));

        var upgraded = await migrator.MigrateAsync();

        Assert.Equal(PostgresMigrator.Migrations.Where(m => m.Version > 2).Select(m => m.Version), upgraded.Select(m => m.Version));
        Assert.Equal(1L, await ScalarAsync<long>(data, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'events'"));
    }

    [Fact]
    public async Task Silos_starting_together_take_turns()
    {
        var (data, migrator) = await FreshAsync();
        await using var _ = data;
        var other = new PostgresMigrator(data, NullLogger<PostgresMigrator>.Instance);

        var results = await Task.WhenAll(migrator.MigrateAsync(), other.MigrateAsync());

        Assert.Equal(PostgresMigrator.Migrations.Count, results.Sum(r => r.Count)); // each migration applied by exactly one
    }

    [Fact]
    public async Task Orleans_finds_every_query_its_providers_ask_for()
    {
        var (data, migrator) = await FreshAsync();
        await using var _ = data;
        await migrator.MigrateAsync();

        var keys = new List<string>();
        await using (var command = data.CreateCommand("SELECT QueryKey FROM OrleansQuery"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                keys.Add(reader.GetString(0));
            }
        }

        string[] required =
        [
            // Clustering
            "InsertMembershipVersionKey", "InsertMembershipKey", "UpdateMembershipKey", "UpdateIAmAlivetimeKey", "MembershipReadRowKey",
            "MembershipReadAllKey", "GatewaysQueryKey", "DeleteMembershipTableEntriesKey", "CleanupDefunctSiloEntriesKey",
            // Grain state
            "ReadFromStorageKey", "WriteToStorageKey", "ClearStorageKey", "DeleteStorageKey",
            // Reminders
            "ReadReminderRowsKey", "ReadReminderRowKey", "ReadRangeRows1Key", "ReadRangeRows2Key", "UpsertReminderRowKey", "DeleteReminderRowKey", "DeleteReminderRowsKey",
        ];
        Assert.Empty(required.Except(keys));
    }

    [Fact]
    public async Task The_archive_table_has_the_contracts_columns_and_key()
    {
        var (data, migrator) = await FreshAsync();
        await using var _ = data;
        await migrator.MigrateAsync();

        var columns = new Dictionary<string, string>(StringComparer.Ordinal);
        await using (var command = data.CreateCommand("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'events'"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                columns[reader.GetString(0)] = reader.GetString(1);
            }
        }

        Assert.Equal("text", columns["topic"]);
        Assert.Equal("integer", columns["partition"]);
        Assert.Equal("bigint", columns["offset"]);
        Assert.Equal("text", columns["id"]);
        Assert.Equal("text", columns["entity"]);
        Assert.Equal("text", columns["type"]);
        Assert.Equal("timestamp with time zone", columns["ts"]);
        Assert.Equal("double precision", columns["value"]);
        Assert.Equal("jsonb", columns["attrs"]);

        var key = await ScalarAsync<string>(data, """
            SELECT string_agg(a.attname, ',' ORDER BY array_position(i.indkey, a.attnum))
            FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = 'events'::regclass AND i.indisunique
            """);
        Assert.Equal("topic,partition,offset", key);
    }
}
