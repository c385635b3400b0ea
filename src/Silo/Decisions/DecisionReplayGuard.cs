using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;
using StreamGrains.Decisions;
using StreamGrains.Kafka.Observers;
using StreamGrains.Silo.Kafka;

namespace StreamGrains.Silo.Decisions;

/// <summary>
/// Makes decisions effectively once. When this silo starts reading a partition of the input (or reads it from
/// somewhere else than where its last read ended), the records it reads may have been decided on before (by a silo
/// that crashed, or this one before a restart). Before the first of them goes on, the guard reads the decisions
/// published since shortly before that record's timestamp and tells the <see cref="DecisionLedger"/> which (rule,
/// offset) pairs of the partition are there; those are not published again.
/// </summary>
/// <remarks>
/// A decision is published after its record was read, so one about a record at or after the restart offset has a
/// timestamp no earlier than that record's, give or take the clocks of the producer and the silo: the guard reads from
/// <see cref="ClockMargin"/> before it.
/// </remarks>
internal sealed partial class DecisionReplayGuard(KafkaEnvironment kafka, DecisionLedger ledger, ILogger<DecisionReplayGuard> logger) : IKafkaReadObserver
{
    /// <summary>How far the clocks of event producers and silos may disagree.</summary>
    public static readonly TimeSpan ClockMargin = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long the scan may hold a (re)started partition's first records back. Past it (Kafka partly away), the
    /// partition goes on with what was found, and a decision about a replayed record may be published twice.
    /// </summary>
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(10);
    private readonly ConcurrentDictionary<int, long> _nextOffsets = new();

    public ValueTask OnReadAsync(TopicPartition partition, IReadOnlyList<KafkaObservedRecord> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0 || partition.Topic != kafka.InputTopic)
        {
            return ValueTask.CompletedTask;
        }

        var p = partition.Partition.Value;
        var first = records[0];
        var continues = _nextOffsets.TryGetValue(p, out var next) && next == first.Offset;
        _nextOffsets[p] = records[^1].Offset + 1;
        return continues ? ValueTask.CompletedTask : new ValueTask(Task.Run(() => Scan(p, first.Offset, first.Timestamp.UtcDateTime), cancellationToken));
    }

    private void Scan(int partition, long fromOffset, DateTime fromTimestamp)
    {
        try
        {
            ScanDecisions(partition, fromOffset, fromTimestamp);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Reading goes on: a decision about a replayed record may then be published twice, never lost.
            ledger.Set(partition, []);
            LogScanFailed(logger, partition, ex is KafkaException kafkaError ? kafkaError.Error.Reason : ex.Message);
        }
    }

    private void ScanDecisions(int partition, long fromOffset, DateTime fromTimestamp)
    {
        var watch = Stopwatch.StartNew();
        TimeSpan Left() => TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(100).Ticks, (Budget - watch.Elapsed).Ticks));
        var keys = new HashSet<(string Rule, long Offset)>();
        var config = kafka.ConsumerConfig($"streamgrains-decision-guard-{partition}");
        config.GroupId = $"{kafka.ConsumerGroup}-decision-guard";
        config.StatisticsIntervalMs = 0;
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(config).SetLogHandler((_, _) => { }).Build();
        using var admin = new AdminClientBuilder(kafka.AdminConfig("streamgrains-decision-guard-metadata")).Build();
        var topic = admin.GetMetadata(kafka.DecisionsTopic, Left()).Topics.Single(t => t.Topic == kafka.DecisionsTopic);
        var since = fromTimestamp - ClockMargin;
        var remaining = new Dictionary<int, long>();
        var assignment = new List<TopicPartitionOffset>();
        var unread = 0;
        foreach (var decisionsPartition in topic.Partitions)
        {
            var tp = new TopicPartition(kafka.DecisionsTopic, decisionsPartition.PartitionId);
            try
            {
                // Each look-up within what is left of the budget: a partition whose leader is away is given up on, not waited for.
                var offsets = consumer.QueryWatermarkOffsets(tp, Left());
                var from = FirstAtOrAfter(consumer, tp, offsets.Low.Value, offsets.High.Value, since, Left);
                if (from < offsets.High.Value)
                {
                    assignment.Add(new TopicPartitionOffset(tp, from));
                    remaining[tp.Partition.Value] = offsets.High.Value;
                }
            }
            catch (KafkaException)
            {
                unread++;
            }
        }

        var read = 0L;
        if (assignment.Count > 0)
        {
            consumer.Assign(assignment);
            while (remaining.Count > 0 && watch.Elapsed < Budget)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is not { Message: { } message } result)
                {
                    continue;
                }

                read++;
                if (result.Offset.Value + 1 >= remaining.GetValueOrDefault(result.Partition.Value, long.MaxValue))
                {
                    remaining.Remove(result.Partition.Value);
                }

                if (DecisionHeaders.TryRead(message.Headers, out var sourcePartition, out var sourceOffset) && sourcePartition == partition && sourceOffset >= fromOffset &&
                    DecisionJson.TryParse(message.Value, out var decision))
                {
                    keys.Add((decision!.Rule, sourceOffset));
                }
            }
        }

        if (remaining.Count + unread > 0)
        {
            LogScanIncomplete(logger, partition, remaining.Count + unread, watch.Elapsed.TotalMilliseconds);
        }

        ledger.Set(partition, keys);
        LogScanned(logger, partition, fromOffset, read, keys.Count, watch.Elapsed.TotalMilliseconds);
    }

    /// <summary>
    /// The first offset in [<paramref name="low"/>, <paramref name="high"/>) whose record is not older than
    /// <paramref name="since"/>, by binary search on record timestamps (<paramref name="high"/> when there is none).
    /// A broker answers this itself (ListOffsets by timestamp), but the embedded one does not; decision timestamps
    /// grow with their offsets up to the silos' clock differences, which <see cref="ClockMargin"/> covers.
    /// </summary>
    private static long FirstAtOrAfter(IConsumer<Ignore, byte[]> consumer, TopicPartition partition, long low, long high, DateTime since, Func<TimeSpan> left)
    {
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            consumer.Assign(new TopicPartitionOffset(partition, middle));
            var record = consumer.Consume(left());
            if (record is null || record.Message.Timestamp.UtcDateTime >= since)
            {
                high = middle;
            }
            else
            {
                low = middle + 1;
            }
        }

        consumer.Unassign();
        return low;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Partition {Partition} (re)starts at offset {Offset}: {Read} recent decisions read, {Published} already about its coming records ({ElapsedMs:F0} ms)")]
    private static partial void LogScanned(ILogger logger, int partition, long offset, long read, int published, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Partition {Partition}: the decisions topic could not be read ({Reason}); decisions about replayed records may be published twice")]
    private static partial void LogScanFailed(ILogger logger, int partition, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Partition {Partition}: {Unread} partition(s) of the decisions topic could not be read to their end within {ElapsedMs:F0} ms; decisions about replayed records may be published twice")]
    private static partial void LogScanIncomplete(ILogger logger, int partition, int unread, double elapsedMs);
}
