using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using StreamGrains.Events;
using StreamGrains.Kafka.Checkpointing;
using StreamGrains.Kafka.Observers;

namespace StreamGrains.Storage.Archive;

/// <summary>
/// Archives every valid event this silo reads into the PostgreSQL table <c>events</c>, in micro-batches written with
/// binary COPY, idempotent on (topic, partition, offset). It sees the events on the provider's read path
/// (<see cref="IKafkaReadObserver"/>) and holds each partition's commits back to the first event not yet in the table
/// (<see cref="IKafkaCommitGate"/>): an offset is committed only once its event is archived, so neither a silo crash
/// nor PostgreSQL going away loses an event, and a replay writes nothing twice.
/// </summary>
/// <remarks>
/// A batch that cannot be written is written again, with back-off, for as long as it takes; meanwhile reading waits once
/// <see cref="EventArchiveOptions.MaxPendingRows"/> rows are pending, and the health check says the archive is failing.
/// </remarks>
public sealed partial class EventArchive : BackgroundService, IKafkaReadObserver, IKafkaCommitGate
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly EventArchiveOptions _options;
    private readonly ILogger<EventArchive> _logger;
    private readonly TimeProvider _time;
    private readonly Channel<Chunk> _chunks = Channel.CreateUnbounded<Chunk>(new UnboundedChannelOptions { SingleReader = false });
    private readonly Dictionary<TopicPartition, Queue<Chunk>> _pending = [];
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _room = new(0);
    private long _pendingRows;
    private long _rejectedRows;
    private DateTimeOffset? _failingSince;
    private string? _lastError;

    /// <summary>Creates the archive.</summary>
    /// <param name="dataSource">The platform's PostgreSQL.</param>
    /// <param name="options">How it writes and keeps events.</param>
    /// <param name="meterFactory">For its metrics.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="time">The clock (null: the system's).</param>
    public EventArchive(NpgsqlDataSource dataSource, EventArchiveOptions options, System.Diagnostics.Metrics.IMeterFactory meterFactory, ILogger<EventArchive> logger, TimeProvider? time = null)
    {
        _dataSource = dataSource;
        _options = options;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        Metrics = new EventArchiveMetrics(meterFactory, () => Interlocked.Read(ref _pendingRows));
    }

    /// <summary>The archive's instruments.</summary>
    public EventArchiveMetrics Metrics { get; }

    /// <summary>Events read but not yet in the table.</summary>
    public long PendingRows => Interlocked.Read(ref _pendingRows);

    /// <summary>Events PostgreSQL refused for their data and the archive skipped (each one is logged with its offset).</summary>
    public long RejectedRows => Interlocked.Read(ref _rejectedRows);

    /// <summary>Since when writes fail, and why; null while they succeed.</summary>
    public (DateTimeOffset Since, string Error)? Failing
    {
        get
        {
            lock (_gate)
            {
                return _failingSince is { } since ? (since, _lastError ?? string.Empty) : null;
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask OnReadAsync(TopicPartition partition, IReadOnlyList<KafkaObservedRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(partition);
        ArgumentNullException.ThrowIfNull(records);
        var events = new List<KafkaObservedRecord>(records.Count);
        foreach (var record in records)
        {
            if (record.Event is StreamEvent)
            {
                events.Add(record);
            }
        }

        if (events.Count == 0)
        {
            return;
        }

        // Reading waits while too much is pending (PostgreSQL slow or away): memory stays bounded.
        while (Interlocked.Read(ref _pendingRows) >= _options.MaxPendingRows)
        {
            await _room.WaitAsync(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
        }

        var chunk = new Chunk(partition, events);
        lock (_gate)
        {
            if (!_pending.TryGetValue(partition, out var queue))
            {
                _pending[partition] = queue = new Queue<Chunk>();
            }

            queue.Enqueue(chunk);
        }

        Interlocked.Add(ref _pendingRows, events.Count);
        _chunks.Writer.TryWrite(chunk);
    }

    /// <inheritdoc />
    public ValueTask<long> GetCommittableOffsetAsync(TopicPartition partition, long deliveredOffset, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            // Chunks of a partition are archived in the order they were read: the first one pending is where the
            // partition's archive stands.
            return ValueTask.FromResult(_pending.TryGetValue(partition, out var queue) && queue.Count > 0
                ? Math.Min(deliveredOffset, queue.Peek().FirstOffset)
                : deliveredOffset);
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retention = RetainAsync(stoppingToken);
        await Task.WhenAll(Enumerable.Range(0, Math.Max(1, _options.Writers)).Select(_ => WriteLoopAsync(stoppingToken))).ConfigureAwait(false);
        await retention.ConfigureAwait(false);
    }

    /// <summary>One writer: gathers batches from the queue and writes them until the silo stops.</summary>
    private async Task WriteLoopAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var batch = new List<Chunk>();
        try
        {
            while (await _chunks.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                // Gather a batch: up to BatchRows rows, or what arrived within FlushInterval of its first chunk.
                batch.Clear();
                var rows = 0;
                var deadline = Stopwatch.GetTimestamp() + (long)(_options.FlushInterval.TotalSeconds * Stopwatch.Frequency);
                while (rows < _options.BatchRows)
                {
                    if (_chunks.Reader.TryRead(out var chunk))
                    {
                        batch.Add(chunk);
                        rows += chunk.Records.Count;
                        continue;
                    }

                    var left = deadline - Stopwatch.GetTimestamp();
                    if (left <= 0)
                    {
                        break;
                    }

                    using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    wait.CancelAfter(TimeSpan.FromSeconds((double)left / Stopwatch.Frequency));
                    try
                    {
                        await _chunks.Reader.WaitToReadAsync(wait.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                    {
                        break;
                    }
                }

                if (batch.Count > 0)
                {
                    await WriteUntilDoneAsync(batch, rows, stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Pending rows stay unarchived and their offsets uncommitted: the next owner reads them again.
        }
    }

    private async Task WriteUntilDoneAsync(List<Chunk> batch, int rows, CancellationToken stoppingToken)
    {
        var delay = _options.RetryDelay;
        while (true)
        {
            var watch = Stopwatch.StartNew();
            try
            {
                try
                {
                    await WriteAsync(batch, stoppingToken).ConfigureAwait(false);
                }
                catch (PostgresException ex) when (IsRefusedData(ex))
                {
                    // Writing it again would fail for ever: find the refused rows and archive the rest.
                    var all = batch.SelectMany(c => c.Records.Select(r => (c.Partition, Record: r))).ToList();
                    await WriteSkippingRefusedAsync(all, 0, all.Count, stoppingToken).ConfigureAwait(false);
                }

                var newest = batch.Max(c => c.Records[^1].Timestamp.UnixTimestampMs);
                Metrics.Written(rows, watch.Elapsed.TotalMilliseconds, (_time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(newest)).TotalMilliseconds);
                lock (_gate)
                {
                    if (_failingSince is not null)
                    {
                        LogRecovered(_logger, _time.GetUtcNow() - _failingSince.Value);
                    }

                    _failingSince = null;
                    _lastError = null;
                    foreach (var chunk in batch)
                    {
                        chunk.Archived = true;
                        // A partition's archive stands at its oldest chunk not yet archived (writers may finish out of order).
                        if (_pending.TryGetValue(chunk.Partition, out var queue))
                        {
                            while (queue.Count > 0 && queue.Peek().Archived)
                            {
                                queue.Dequeue();
                            }
                        }
                    }
                }

                Interlocked.Add(ref _pendingRows, -rows);
                if (_room.CurrentCount == 0)
                {
                    _room.Release(); // wakes a read that waits for room
                }

                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // Whatever went wrong, this writer lives on and the batch is written again: a writer that died would
                // hold its partitions' commits back silently.
                Metrics.Failed();
                lock (_gate)
                {
                    _failingSince ??= _time.GetUtcNow();
                    _lastError = ex.Message;
                }

                LogWriteFailed(_logger, ex, rows, delay.TotalMilliseconds);
                await Task.Delay(delay, stoppingToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.RetryDelay.Ticks * 10));
            }
        }
    }

    private async Task WriteAsync(List<Chunk> batch, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The common case: none of the rows is there yet, so they go straight into the table.
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await CopyAsync(connection, "events", batch, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // A replay (a crash, a partition that moved): rows already archived are skipped.
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (var stage = new NpgsqlCommand(
                "CREATE TEMP TABLE IF NOT EXISTS events_stage (LIKE events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
                connection,
                transaction))
            {
                await stage.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await CopyAsync(connection, "events_stage", batch, cancellationToken).ConfigureAwait(false);
            await using (var insert = new NpgsqlCommand(
                """
                INSERT INTO events (topic, partition, "offset", id, entity, type, ts, value, attrs, kafka_ts)
                SELECT topic, partition, "offset", id, entity, type, ts, value, attrs, kafka_ts FROM events_stage
                ON CONFLICT (topic, partition, "offset") DO NOTHING
                """,
                connection,
                transaction))
            {
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Whether PostgreSQL refused the rows for what they hold (a data exception, a violated constraint other than the
    /// key, a value over one of its limits): writing the same rows again cannot succeed.
    /// </summary>
    private static bool IsRefusedData(PostgresException ex) =>
        ex.SqlState != PostgresErrorCodes.UniqueViolation
        && (ex.SqlState.StartsWith("22", StringComparison.Ordinal)
            || ex.SqlState.StartsWith("23", StringComparison.Ordinal)
            || ex.SqlState == PostgresErrorCodes.ProgramLimitExceeded);

    /// <summary>
    /// Writes <paramref name="rows"/>[<paramref name="start"/>..+<paramref name="count"/>], halving the range on each
    /// refusal until the refused rows stand alone; those are skipped, logged with their offsets and counted.
    /// </summary>
    private async Task WriteSkippingRefusedAsync(List<(TopicPartition Partition, KafkaObservedRecord Record)> rows, int start, int count, CancellationToken cancellationToken)
    {
        var chunks = new List<Chunk>();
        for (var i = start; i < start + count; i++)
        {
            if (chunks.Count == 0 || !chunks[^1].Partition.Equals(rows[i].Partition))
            {
                chunks.Add(new Chunk(rows[i].Partition, []));
            }

            chunks[^1].Records.Add(rows[i].Record);
        }

        try
        {
            await WriteAsync(chunks, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (IsRefusedData(ex))
        {
            if (count == 1)
            {
                var (partition, record) = rows[start];
                Interlocked.Increment(ref _rejectedRows);
                Metrics.Rejected(ex.SqlState);
                LogRowRefused(_logger, partition.Topic, partition.Partition.Value, record.Offset, ex.SqlState, ex.MessageText);
                return;
            }

            var half = count / 2;
            await WriteSkippingRefusedAsync(rows, start, half, cancellationToken).ConfigureAwait(false);
            await WriteSkippingRefusedAsync(rows, start + half, count - half, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes a batch's rows into <paramref name="table"/> with binary COPY (buffered writes: no await per field).</summary>
    private static async Task CopyAsync(NpgsqlConnection connection, string table, List<Chunk> batch, CancellationToken cancellationToken)
    {
        await using var copy = await connection.BeginBinaryImportAsync(
            $"COPY {table} (topic, partition, \"offset\", id, entity, type, ts, value, attrs, kafka_ts) FROM STDIN (FORMAT BINARY)",
            cancellationToken).ConfigureAwait(false);
        var json = new ArrayBufferWriter<byte>();
        foreach (var chunk in batch)
        {
            foreach (var record in chunk.Records)
            {
                var evt = (StreamEvent)record.Event;
                copy.StartRow();
                copy.Write(chunk.Partition.Topic, NpgsqlDbType.Text);
                copy.Write(chunk.Partition.Partition.Value, NpgsqlDbType.Integer);
                copy.Write(record.Offset, NpgsqlDbType.Bigint);
                WriteNullable(copy, evt.Id, NpgsqlDbType.Text);
                copy.Write(evt.Entity, NpgsqlDbType.Text);
                copy.Write(evt.Type, NpgsqlDbType.Text);
                copy.Write(evt.Timestamp.UtcDateTime, NpgsqlDbType.TimestampTz);
                if (evt.Value is { } value)
                {
                    copy.Write(value, NpgsqlDbType.Double);
                }
                else
                {
                    copy.WriteNull();
                }

                WriteNullable(copy, evt.Attributes.Count == 0 ? null : AttributesJson(evt, json), NpgsqlDbType.Jsonb);
                copy.Write(DateTimeOffset.FromUnixTimeMilliseconds(record.Timestamp.UnixTimestampMs).UtcDateTime, NpgsqlDbType.TimestampTz);
            }
        }

        await copy.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes events older than the retention, a few thousand rows at a time.</summary>
    private async Task RetainAsync(CancellationToken stoppingToken)
    {
        if (_options.Retention <= TimeSpan.Zero)
        {
            return;
        }

        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    var cutoff = _time.GetUtcNow() - _options.Retention;
                    int deleted;
                    do
                    {
                        await using var connection = await _dataSource.OpenConnectionAsync(stoppingToken).ConfigureAwait(false);
                        await using var delete = new NpgsqlCommand(
                            "DELETE FROM events WHERE ctid IN (SELECT ctid FROM events WHERE ts < @cutoff LIMIT 5000)",
                            connection);
                        delete.Parameters.AddWithValue("cutoff", cutoff.UtcDateTime);
                        deleted = await delete.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
                    }
                    while (deleted > 0);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    LogRetentionFailed(_logger, ex);
                }

                await Task.Delay(_options.RetentionCheckInterval, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static void WriteNullable(NpgsqlBinaryImporter copy, string? value, NpgsqlDbType type)
    {
        if (value is null)
        {
            copy.WriteNull();
        }
        else
        {
            copy.Write(value, type);
        }
    }

    private static string AttributesJson(StreamEvent evt, ArrayBufferWriter<byte> buffer)
    {
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            StreamEventJson.WriteAttributes(writer, evt.Attributes);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>One read's events of one partition, archived together.</summary>
    private sealed class Chunk(TopicPartition partition, List<KafkaObservedRecord> records)
    {
        public TopicPartition Partition { get; } = partition;

        public List<KafkaObservedRecord> Records { get; } = records;

        public long FirstOffset => Records[0].Offset;

        /// <summary>In the table (set under the archive's lock).</summary>
        public bool Archived { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing {Rows} events to the archive failed; trying again in {DelayMs} ms (their offsets stay uncommitted)")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, int rows, double delayMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "PostgreSQL refused the event at {Topic}[{Partition}]@{Offset} ({SqlState}: {Error}); the archive skips it, the event stays in Kafka at that offset")]
    private static partial void LogRowRefused(ILogger logger, string topic, int partition, long offset, string sqlState, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "The archive writes again after {Outage} of failures")]
    private static partial void LogRecovered(ILogger logger, TimeSpan outage);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deleting events older than the archive's retention failed; trying again later")]
    private static partial void LogRetentionFailed(ILogger logger, Exception exception);
}
