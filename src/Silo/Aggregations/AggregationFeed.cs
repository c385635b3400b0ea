using System.Collections.Concurrent;
using Confluent.Kafka;
using StreamGrains.Aggregations;
using StreamGrains.Events;
using StreamGrains.Kafka.Observers;
using StreamGrains.Kafka.Providers;
using StreamGrains.Silo.Kafka;

namespace StreamGrains.Silo.Aggregations;

/// <summary>
/// Feeds the aggregations from the read path: each read of each input partition is pre-aggregated here
/// (<see cref="PartitionPreAggregator"/>) and handed to the aggregator shards, one call per shard and read; events that
/// came too late go to <c>Kafka:LateTopic</c>. Reading waits for the shards, so a slow aggregation slows reading down
/// rather than piling up memory.
/// </summary>
internal sealed partial class AggregationFeed(
    AggregationBook book,
    KafkaEnvironment kafka,
    AggregatorRouting routing,
    KafkaAggregationOutput output,
    StreamGrains.Profiles.ProfileCheckpoints checkpoints,
    AggregationMetrics metrics,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<AggregationFeed> logger) : BackgroundService, IKafkaReadObserver
{
    private readonly ConcurrentDictionary<int, PartitionReading> _partitions = new();

    public async ValueTask OnReadAsync(TopicPartition partition, IReadOnlyList<KafkaObservedRecord> records, CancellationToken cancellationToken)
    {
        if (book.All.Count == 0 || partition.Topic != kafka.InputTopic || records.Count == 0)
        {
            return;
        }

        var number = partition.Partition.Value;
        var reading = _partitions.GetOrAdd(number, p => new PartitionReading(new PartitionPreAggregator(p, book.All, book.Limits, book.Shards, routing.InputPartitions)));
        await reading.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ReadAsync(number, reading, records, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            reading.Gate.Release();
        }
    }

    /// <summary>
    /// Between reads, tells the re-keyed shards the watermarks they have not heard yet (see
    /// <see cref="PartitionPreAggregator.Heartbeats"/>): without it, windows stay open when the traffic stops.
    /// </summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Not once the host stops: the silo stops before this service does, and its grains with it.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lifetime.ApplicationStopping);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(PartitionPreAggregator.HeartbeatMs), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping.Token).ConfigureAwait(false))
            {
                foreach (var (partition, reading) in _partitions)
                {
                    // Each partition on its own: one whose shard does not answer holds back no other. A partition busy
                    // with a read (which tells the shards itself) or with its previous heartbeats is left for the next tick.
                    if (await reading.Gate.WaitAsync(0, stopping.Token).ConfigureAwait(false))
                    {
                        _ = HeartbeatAsync(partition, reading, stopping.Token);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // stopping
        }
    }

    private async Task HeartbeatAsync(int partition, PartitionReading reading, CancellationToken cancellationToken)
    {
        try
        {
            var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
            var heartbeats = reading.Reader.Heartbeats(nowMs);
            await Task.WhenAll(heartbeats.Select(b => MergeAsync(b, cancellationToken))).ConfigureAwait(false);
            reading.Reader.Delivered(heartbeats, nowMs);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogHeartbeatFailed(logger, partition, ex.Message); // the next tick tries again: the watermark was not marked sent
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
        finally
        {
            reading.Gate.Release();
        }
    }

    private async Task ReadAsync(int number, PartitionReading reading, IReadOnlyList<KafkaObservedRecord> records, CancellationToken cancellationToken)
    {
        var reader = reading.Reader;
        if (records[0].Offset != reading.ExpectedNext)
        {
            // The first read of the partition here, or a read after a rewind or a move: what did each shard take already?
            await AskCoverageAsync(number, reader, cancellationToken).ConfigureAwait(false);
        }

        reading.ExpectedNext = records[^1].Offset + 1;
        var events = new List<(long Offset, StreamEvent Event)>(records.Count);
        var indexes = new List<int>(records.Count);
        for (var i = 0; i < records.Count; i++)
        {
            if (records[i].Event is StreamEvent evt)
            {
                events.Add((records[i].Offset, evt));
                indexes.Add(i);
            }
        }

        var read = reader.Read(events, time.GetUtcNow().ToUnixTimeMilliseconds());
        metrics.Watermark(number, reader.WatermarkMs);
        var replies = new Task<AggregationReply>[read.Batches.Count];
        for (var i = 0; i < read.Batches.Count; i++)
        {
            var batch = read.Batches[i];
            if (batch.Batch.Windows.Count > 0 || batch.Batch.Sessions.Count > 0)
            {
                // Kafka commits wait until the shard's stored state covers these records (the commit gate asks).
                checkpoints.Dirty(number, CheckpointKey(batch.GrainKey), records[0].Offset);
            }

            replies[i] = MergeAsync(batch, cancellationToken);
        }

        await Task.WhenAll(replies).ConfigureAwait(false);
        for (var i = 0; i < read.Batches.Count; i++)
        {
            // Stored up to StoredOffset: what lies before it may be committed; what lies after waits for a write.
            var stored = replies[i].Result;
            var key = CheckpointKey(read.Batches[i].GrainKey);
            if (stored.StoredOffset >= read.Batches[i].Batch.NextOffset)
            {
                checkpoints.Durable(number, key);
            }
            else
            {
                checkpoints.StoredUpTo(number, key, stored.StoredOffset);
            }
        }

        // A read the shards had covered already (after a rewind) was published as late then: not again.
        var replayed = read.Batches.Select((b, i) => (b.Definition.Name, Replayed: replies[i].Result.Replayed))
            .GroupBy(b => b.Name)
            .Where(g => g.All(b => b.Replayed))
            .Select(g => g.Key)
            .ToHashSet(StringComparer.Ordinal);
        var late = new HashSet<(int Record, string Aggregation, LateReason Reason)>();
        foreach (var record in read.Late.Where(l => !replayed.Contains(l.Aggregation)))
        {
            late.Add((record.Record, record.Aggregation, record.Reason));
        }

        for (var i = 0; i < read.Batches.Count; i++)
        {
            var reply = replies[i].Result;
            var batch = read.Batches[i];
            foreach (var index in reply.LateWindows)
            {
                foreach (var record in batch.WindowRecords[index])
                {
                    late.Add((record, batch.Definition.Name, LateReason.WindowClosed));
                }
            }

            foreach (var index in reply.LateSessions)
            {
                foreach (var record in batch.SessionRecords[index])
                {
                    late.Add((record, batch.Definition.Name, LateReason.WindowClosed));
                }
            }
        }

        foreach (var (record, aggregation, reason) in late.Distinct().OrderBy(l => l.Record))
        {
            var observed = records[indexes[record]];
            output.Late(observed.Key, observed.Value, observed.Headers, aggregation, reason);
            metrics.LateEvent(aggregation, reason);
        }
    }

    private async Task AskCoverageAsync(int partition, PartitionPreAggregator reader, CancellationToken cancellationToken)
    {
        foreach (var (definition, shard) in reader.Shards())
        {
            var covered = await CallUntilAnsweredAsync(definition.Name, shard, async grain => await grain.GetCoveredOffset(partition).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            reader.Covered(definition.Name, shard, covered);
        }
    }

    private Task<AggregationReply> MergeAsync(ShardBatch batch, CancellationToken cancellationToken) =>
        CallUntilAnsweredAsync(batch.Definition.Name, batch.Shard, grain => grain.Merge(batch.Batch), cancellationToken);

    /// <summary>
    /// Calls a shard until it answers: a batch it never took would be missing from windows that then become final, so
    /// reading this partition waits instead (its health shows it in the logs), trying again after 0.2 s, 0.4 s, ... up
    /// to 5 s apart. Stopping (or losing the partition) cancels the wait; the read is then read again from its start.
    /// </summary>
    private async Task<T> CallUntilAnsweredAsync<T>(string aggregation, string shard, Func<IAggregatorGrain, Task<T>> call, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await routing.CallAsync(aggregation, shard, call).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                if ((attempt & (attempt - 1)) == 0)
                {
                    LogRetry(logger, $"{aggregation}/{shard}", attempt, ex.Message); // the 1st, 2nd, 4th, 8th... failure
                }

                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(200 * attempt, 5_000)), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static string CheckpointKey(string grainKey) => "aggregator:" + grainKey;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Partition {Partition}: its watermark could not be sent to the aggregation shards between reads: {Reason}")]
    private static partial void LogHeartbeatFailed(ILogger logger, int partition, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Aggregator {Shard}: a call failed ({Attempt} failures in a row); reading its partition waits and tries again: {Reason}")]
    private static partial void LogRetry(ILogger logger, string shard, int attempt, string reason);
}

/// <summary>A partition as the feed reads it: its pre-aggregator and the offset its next read should start at.</summary>
internal sealed class PartitionReading(PartitionPreAggregator reader)
{
    public PartitionPreAggregator Reader { get; } = reader;

    /// <summary>The offset after the last read (-1 before the first): a read starting elsewhere follows a rewind or a move.</summary>
    public long ExpectedNext { get; set; } = -1;

    /// <summary>One at a time: a read, or the heartbeats sent between reads.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);
}
