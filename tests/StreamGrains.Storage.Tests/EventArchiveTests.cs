using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using StreamGrains.Events;
using StreamGrains.Kafka.Observers;
using StreamGrains.Storage.Archive;
using StreamGrains.Testing;

namespace StreamGrains.Storage.Tests;

public sealed class EventArchiveTests : IDisposable
{
    private readonly TestMeterFactory _meters = new();

    public void Dispose() => _meters.Dispose();

    private static List<KafkaObservedRecord> Records(long from, int count, string entity = "card-1") =>
        Enumerable.Range(0, count).Select(i => new KafkaObservedRecord(
            from + i,
            new Timestamp(DateTime.UtcNow),
            entity,
            new StreamEvent
            {
                Id = $"e{from + i}",
                Entity = entity,
                Type = "payment",
                Timestamp = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero).AddSeconds(from + i),
                Value = from + i,
                Attributes = new Dictionary<string, AttributeValue> { ["country"] = "DE", ["amount"] = AttributeValue.FromNumber(1.5), ["new"] = AttributeValue.FromBoolean(true) },
            })).ToList();

    private static async Task<NpgsqlDataSource> DatabaseAsync(PostgresServer server)
    {
        var data = NpgsqlDataSource.Create(await server.CreateDatabaseAsync("archive"));
        await new PostgresMigrator(data, NullLogger<PostgresMigrator>.Instance).MigrateAsync();
        return data;
    }

    private EventArchive Archive(NpgsqlDataSource data) =>
        new(data, new EventArchiveOptions { FlushInterval = TimeSpan.FromMilliseconds(20), RetryDelay = TimeSpan.FromMilliseconds(100) }, _meters, NullLogger<EventArchive>.Instance);

    private static async Task<long> RowsAsync(NpgsqlDataSource data)
    {
        await using var command = data.CreateCommand("SELECT count(*) FROM events");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string failure)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < timeout, $"{failure} within {timeout}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task Commits_wait_for_the_archive_and_a_replay_writes_nothing_twice()
    {
        await using var data = await DatabaseAsync(await PostgresServer.Shared);
        using var archive = Archive(data);
        var tp = new TopicPartition("events", 3);

        await archive.OnReadAsync(tp, Records(100, 50), CancellationToken.None);
        Assert.Equal(100, await archive.GetCommittableOffsetAsync(tp, 150, CancellationToken.None)); // nothing archived yet
        Assert.Equal(150, await archive.GetCommittableOffsetAsync(new TopicPartition("events", 4), 150, CancellationToken.None)); // another partition is free

        await archive.StartAsync(CancellationToken.None);
        await WaitUntilAsync(async () => archive.PendingRows == 0, TimeSpan.FromSeconds(30), "the archive did not write");
        Assert.Equal(150, await archive.GetCommittableOffsetAsync(tp, 150, CancellationToken.None));
        Assert.Equal(50, await RowsAsync(data));

        // After a crash the next owner reads them again (and one more).
        await archive.OnReadAsync(tp, Records(100, 51), CancellationToken.None);
        await WaitUntilAsync(async () => archive.PendingRows == 0, TimeSpan.FromSeconds(30), "the archive did not write the replay");
        Assert.Equal(51, await RowsAsync(data));
        await archive.StopAsync(CancellationToken.None);

        var events = await new EventArchiveReader(data).QueryAsync("card-1", null, null, 3, CancellationToken.None);
        Assert.Equal([150L, 149, 148], events.Select(e => e.Offset)); // newest first
        var newest = events[0];
        Assert.Equal(("events", 3, "e150", "payment", 150.0), (newest.Topic, newest.Partition, newest.Id, newest.Type, newest.Value));
        Assert.Equal(new DateTimeOffset(2026, 11, 26, 12, 2, 30, TimeSpan.Zero), newest.Timestamp);
        using var attrs = System.Text.Json.JsonDocument.Parse(newest.Attributes!);
        Assert.Equal("DE", attrs.RootElement.GetProperty("country").GetString());
        Assert.Equal(1.5, attrs.RootElement.GetProperty("amount").GetDouble());
        Assert.True(attrs.RootElement.GetProperty("new").GetBoolean());
    }

    [Fact]
    public async Task A_row_PostgreSQL_refuses_is_skipped_and_counted_and_the_rest_of_its_batch_is_archived()
    {
        // The contract keeps U+0000 out of events; should PostgreSQL refuse a row for another reason of its data, that
        // row must not stop the archive (and with it every commit of its partition) for ever.
        await using var data = await DatabaseAsync(await PostgresServer.Shared);
        using var archive = Archive(data);
        var tp = new TopicPartition("events", 0);
        var records = Records(0, 50);
        records[7] = records[7] with { Event = ((StreamEvent)records[7].Event) with { Entity = "bad\0entity" } };
        records[31] = records[31] with { Event = ((StreamEvent)records[31].Event) with { Attributes = new Dictionary<string, AttributeValue> { ["note"] = "a\0b" } } };

        await archive.StartAsync(CancellationToken.None);
        await archive.OnReadAsync(tp, records, CancellationToken.None);
        await archive.OnReadAsync(tp, Records(50, 10), CancellationToken.None);
        await WaitUntilAsync(async () => archive.PendingRows == 0, TimeSpan.FromSeconds(30), "the archive did not get past the refused rows");
        await archive.StopAsync(CancellationToken.None);

        Assert.Equal(58, await RowsAsync(data));
        Assert.Equal(2, archive.RejectedRows);
        Assert.Equal(60, await archive.GetCommittableOffsetAsync(tp, 60, CancellationToken.None));
        await using var missing = data.CreateCommand("SELECT array_agg(o ORDER BY o) FROM generate_series(0::bigint, 59) o WHERE o NOT IN (SELECT \"offset\" FROM events)");
        var skipped = (long[])(await missing.ExecuteScalarAsync())!;
        Assert.Equal([7L, 31L], skipped);
    }

    [Fact]
    public async Task A_writer_outlives_an_unexpected_exception_and_writes_its_batch_again()
    {
        await using var data = await DatabaseAsync(await PostgresServer.Shared);
        var clock = new FailingOnceClock();
        using var archive = new EventArchive(
            data,
            new EventArchiveOptions { Writers = 1, Retention = TimeSpan.Zero, FlushInterval = TimeSpan.FromMilliseconds(20), RetryDelay = TimeSpan.FromMilliseconds(100) },
            _meters,
            NullLogger<EventArchive>.Instance,
            clock);
        var tp = new TopicPartition("events", 0);

        await archive.StartAsync(CancellationToken.None);
        await archive.OnReadAsync(tp, Records(0, 20), CancellationToken.None);
        await WaitUntilAsync(async () => archive.PendingRows == 0, TimeSpan.FromSeconds(30), "the only writer died");
        await archive.OnReadAsync(tp, Records(20, 20), CancellationToken.None);
        await WaitUntilAsync(async () => archive.PendingRows == 0, TimeSpan.FromSeconds(30), "the writer did not write the next batch");
        await archive.StopAsync(CancellationToken.None);

        Assert.True(clock.Failed);
        Assert.Equal(40, await RowsAsync(data));
        Assert.Equal(40, await archive.GetCommittableOffsetAsync(tp, 40, CancellationToken.None));
    }

    [Fact]
    public async Task Retention_deletes_old_events_and_outlives_an_unexpected_exception()
    {
        await using var data = await DatabaseAsync(await PostgresServer.Shared);
        var clock = new FailingOnceClock();
        using var archive = new EventArchive(
            data,
            new EventArchiveOptions { Retention = TimeSpan.FromDays(1), RetentionCheckInterval = TimeSpan.FromMilliseconds(100), FlushInterval = TimeSpan.FromMilliseconds(20), RetryDelay = TimeSpan.FromMilliseconds(100) },
            _meters,
            NullLogger<EventArchive>.Instance,
            clock);
        var tp = new TopicPartition("events", 0);
        List<KafkaObservedRecord> At(int from, int count, DateTimeOffset time) => Enumerable.Range(from, count)
            .Select(i => new KafkaObservedRecord(i, new Timestamp(DateTime.UtcNow), "card-1", new StreamEvent { Entity = "card-1", Type = "payment", Timestamp = time }))
            .ToList();
        var old = At(0, 10, DateTimeOffset.UtcNow.AddDays(-2));
        var fresh = At(10, 5, DateTimeOffset.UtcNow);

        await archive.StartAsync(CancellationToken.None);
        await archive.OnReadAsync(tp, old, CancellationToken.None);
        await archive.OnReadAsync(tp, fresh, CancellationToken.None);
        await WaitUntilAsync(async () => await RowsAsync(data) == 5 && archive.PendingRows == 0, TimeSpan.FromSeconds(30), "retention did not delete the old events");
        await archive.StopAsync(CancellationToken.None);
        Assert.True(clock.Failed);
    }

    /// <summary>A clock whose first reading throws: an exception no writer or retention expects.</summary>
    private sealed class FailingOnceClock : TimeProvider
    {
        private int _reads;

        public bool Failed => Volatile.Read(ref _reads) > 0;

        public override DateTimeOffset GetUtcNow() =>
            Interlocked.Increment(ref _reads) == 1 ? throw new ArithmeticException("injected") : base.GetUtcNow();
    }

    [Fact]
    public async Task The_reader_filters_by_entity_and_time_and_bounds_the_answer()
    {
        await using var data = await DatabaseAsync(await PostgresServer.Shared);
        using var archive = Archive(data);
        await archive.StartAsync(CancellationToken.None);
        await archive.OnReadAsync(new TopicPartition("events", 0), Records(0, 20, "card-a"), CancellationToken.None);
        await archive.OnReadAsync(new TopicPartition("events", 1), Records(0, 20, "card-b"), CancellationToken.None);
        await WaitUntilAsync(async () => archive.PendingRows == 0, TimeSpan.FromSeconds(30), "the archive did not write");
        await archive.StopAsync(CancellationToken.None);
        var reader = new EventArchiveReader(data);
        var start = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

        Assert.Equal(20, (await reader.QueryAsync("card-a", null, null, 1000, CancellationToken.None)).Count);
        Assert.Equal([9L, 8, 7, 6, 5], (await reader.QueryAsync("card-b", start.AddSeconds(5), start.AddSeconds(10), 1000, CancellationToken.None)).Select(e => e.Offset));
        Assert.Equal(7, (await reader.QueryAsync(null, start.AddSeconds(15), null, 7, CancellationToken.None)).Count);
        Assert.Equal(10, (await reader.QueryAsync(null, start.AddSeconds(15), null, 1000, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task With_PostgreSQL_away_for_seconds_writes_retry_health_says_so_and_nothing_is_lost()
    {
        await using var server = await PostgresServer.StartAsync();
        await using var data = await DatabaseAsync(server);
        using var archive = Archive(data);
        var health = new EventArchiveHealthCheck(archive);
        var tp = new TopicPartition("events", 0);
        await archive.StartAsync(CancellationToken.None);
        await archive.OnReadAsync(tp, Records(0, 100), CancellationToken.None);
        await WaitUntilAsync(async () => archive.PendingRows == 0, TimeSpan.FromSeconds(30), "the archive did not write");

        await server.StopAsync();
        await archive.OnReadAsync(tp, Records(100, 100), CancellationToken.None);
        await WaitUntilAsync(async () => (await health.CheckHealthAsync(new HealthCheckContext())).Status == HealthStatus.Unhealthy, TimeSpan.FromSeconds(30), "health did not show the outage");
        Assert.Equal(100, await archive.GetCommittableOffsetAsync(tp, 200, CancellationToken.None)); // held at the first unarchived event
        await Task.Delay(TimeSpan.FromSeconds(2)); // PostgreSQL stays away a while: the writer keeps trying

        await server.StartAgainAsync();
        await WaitUntilAsync(async () => archive.PendingRows == 0, TimeSpan.FromSeconds(60), "the archive did not catch up");
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(new HealthCheckContext())).Status);
        Assert.Equal(200, await archive.GetCommittableOffsetAsync(tp, 200, CancellationToken.None));
        Assert.Equal(200, await RowsAsync(data));
        await using var distinct = data.CreateCommand("SELECT count(DISTINCT \"offset\") FROM events");
        Assert.Equal(200L, (long)(await distinct.ExecuteScalarAsync())!);
        await archive.StopAsync(CancellationToken.None);
    }
}
