using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using StreamGrains.Aggregations;
using StreamGrains.Outputs;

namespace StreamGrains.Storage.Aggregations;

/// <summary>
/// Writes final windows and closed sessions to the tables <c>aggregates</c> and <c>sessions</c> (migration 0007), in
/// batches, off the grains' path: a window is handed over and the writer inserts it within about
/// <see cref="FlushInterval"/>. Rows are keyed by aggregation, key and start and inserted with <c>ON CONFLICT DO
/// NOTHING</c>: a window published again after a failure has identical content and changes nothing. A batch that fails
/// while PostgreSQL is away is tried again until it goes in; one PostgreSQL refuses for its data is logged and dropped
/// (its windows stay in the Kafka topics).
/// </summary>
public sealed partial class AggregateTables(NpgsqlDataSource dataSource, ILogger<AggregateTables> logger) : BackgroundService
{
    /// <summary>How long a row waits at most before its batch is written.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(200);

    private const int BatchRows = 500;
    private readonly Channel<Row> _rows = Channel.CreateUnbounded<Row>(new UnboundedChannelOptions { SingleReader = false }); // (this kind can count)
    private long _written;

    /// <summary>Rows written so far.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Queues a final window or a closed session.</summary>
    /// <param name="aggregation">The aggregation.</param>
    /// <param name="result">The window or session.</param>
    /// <param name="unacknowledged">When given, counts the row until it is written (or refused for good).</param>
    public void Add(string aggregation, AggregationResult result, UnacknowledgedOutputs? unacknowledged = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        unacknowledged?.Sent();
        if (!_rows.Writer.TryWrite(new Row(aggregation, result, unacknowledged)))
        {
            unacknowledged?.Acknowledged(); // the writer has stopped: nothing will write it
        }
    }

    /// <inheritdoc/>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _rows.Writer.TryComplete();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Row>(BatchRows);
        while (await _rows.Reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            // A moment for more rows to come unless a batch is waiting already, then everything there is (up to a batch).
            if (_rows.Reader.Count < BatchRows)
            {
                await Task.Delay(FlushInterval, CancellationToken.None).ConfigureAwait(false);
            }

            while (batch.Count < BatchRows && _rows.Reader.TryRead(out var row))
            {
                batch.Add(row);
            }

            for (var attempt = 1; batch.Count > 0; attempt++)
            {
                try
                {
                    await WriteAsync(batch, stoppingToken.IsCancellationRequested ? CancellationToken.None : stoppingToken).ConfigureAwait(false);
                    Interlocked.Add(ref _written, batch.Count);
                    Done(batch);
                }
                catch (PostgresException ex) when (!ex.IsTransient)
                {
                    // Refused for its data (not for PostgreSQL being away): trying again would block every later row.
                    LogBatchRefused(logger, batch.Count, ex.SqlState, ex);
                    Done(batch);
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException)
                {
                    LogWriteFailed(logger, batch.Count, attempt, ex);
                    if (stoppingToken.IsCancellationRequested && attempt >= 3)
                    {
                        Done(batch); // stopping, and PostgreSQL is away: the rows are in Kafka's topics still
                        break;
                    }

                    await Task.Delay(TimeSpan.FromSeconds(Math.Min(10, attempt)), CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
    }

    private async Task WriteAsync(List<Row> rows, CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        foreach (var (aggregation, result, _) in rows)
        {
            var command = new NpgsqlBatchCommand();
            if (result.Window is { } window)
            {
                command.CommandText = """
                    INSERT INTO aggregates (aggregation, key, window_start, window_end, count, sum, min, max, avg, distinct_entities, p50, p95, p99)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING
                    """;
                var view = AggregationResult.View(result.StartMs, result.EndMs, window, final: true);
                command.Parameters.Add(new NpgsqlParameter { Value = aggregation });
                command.Parameters.Add(new NpgsqlParameter { Value = result.Key });
                command.Parameters.Add(new NpgsqlParameter { Value = view.Start, NpgsqlDbType = NpgsqlDbType.TimestampTz });
                command.Parameters.Add(new NpgsqlParameter { Value = view.End, NpgsqlDbType = NpgsqlDbType.TimestampTz });
                command.Parameters.Add(new NpgsqlParameter { Value = view.Count });
                foreach (var value in new[] { view.Sum, view.Min, view.Max, view.Avg })
                {
                    command.Parameters.Add(new NpgsqlParameter { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Double });
                }

                command.Parameters.Add(new NpgsqlParameter { Value = view.DistinctEntities });
                foreach (var value in new[] { view.P50, view.P95, view.P99 })
                {
                    command.Parameters.Add(new NpgsqlParameter { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Double });
                }
            }
            else if (result.Session is { } session)
            {
                command.CommandText = """
                    INSERT INTO sessions (aggregation, key, session_start, session_end, count, duration_ms, types)
                    VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING
                    """;
                var view = AggregationResult.View(session, closed: true);
                command.Parameters.Add(new NpgsqlParameter { Value = aggregation });
                command.Parameters.Add(new NpgsqlParameter { Value = result.Key });
                command.Parameters.Add(new NpgsqlParameter { Value = view.Start, NpgsqlDbType = NpgsqlDbType.TimestampTz });
                command.Parameters.Add(new NpgsqlParameter { Value = view.End, NpgsqlDbType = NpgsqlDbType.TimestampTz });
                command.Parameters.Add(new NpgsqlParameter { Value = view.Count });
                command.Parameters.Add(new NpgsqlParameter { Value = view.DurationMs });
                command.Parameters.Add(new NpgsqlParameter { Value = view.Types.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            }
            else
            {
                continue;
            }

            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Ends the batch's rows: written, or given up on.</summary>
    private static void Done(List<Row> batch)
    {
        foreach (var row in batch)
        {
            row.Unacknowledged?.Acknowledged();
        }

        batch.Clear();
    }

    private readonly record struct Row(string Aggregation, AggregationResult Result, UnacknowledgedOutputs? Unacknowledged);

    [LoggerMessage(Level = LogLevel.Error, Message = "PostgreSQL refused {Rows} final windows and sessions ({SqlState}); they are in the Kafka topics only")]
    private static partial void LogBatchRefused(ILogger logger, int rows, string sqlState, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Rows} final windows and sessions could not be written to PostgreSQL (attempt {Attempt}); trying again")]
    private static partial void LogWriteFailed(ILogger logger, int rows, int attempt, Exception exception);
}
