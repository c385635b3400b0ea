using StreamGrains.Aggregations.Sessions;
using StreamGrains.Aggregations.Windows;

namespace StreamGrains.Aggregations;

/// <summary>
/// What one read of one partition contributes to one aggregator shard: partial window aggregates and partial sessions,
/// pre-aggregated per key (and window) on the read path, with the partition's watermark after the read. One grain call
/// carries a partition's worth of events, as Kafka Streams' record cache and Flink's local-global aggregation do.
/// </summary>
/// <param name="Partition">The input partition.</param>
/// <param name="WatermarkMs">The partition's watermark after the read: the highest valid event time read from it (<see cref="long.MinValue"/>: none yet).</param>
/// <param name="LastRecordAtMs">When the partition last had a record, by the wall clock of the silo that reads it.</param>
/// <param name="NextOffset">The offset after the read's last record: what the shard covers of the partition once merged.</param>
/// <param name="Windows">Partial window aggregates.</param>
/// <param name="Sessions">Partial sessions.</param>
/// <param name="InputPartitions">For a re-keyed shard, which every partition feeds: how many partitions the input has (until each was heard of, or the idle timeout passed, the ones not heard of hold the watermark back). 0 for an entity shard.</param>
[GenerateSerializer, Immutable, Alias("sg.aggregation-batch")]
public sealed record AggregationBatch(
    [property: Id(0)] int Partition,
    [property: Id(1)] long WatermarkMs,
    [property: Id(2)] long LastRecordAtMs,
    [property: Id(3)] long NextOffset,
    [property: Id(4)] IReadOnlyList<WindowPartial> Windows,
    [property: Id(5)] IReadOnlyList<SessionPartial> Sessions,
    [property: Id(6)] int InputPartitions = 0);

/// <summary>A key's partial aggregate of one window.</summary>
/// <param name="Key">The group key.</param>
/// <param name="StartMs">The window's start.</param>
/// <param name="Aggregate">The events of the read that fall in it.</param>
[GenerateSerializer, Immutable, Alias("sg.window-partial")]
public sealed record WindowPartial([property: Id(0)] string Key, [property: Id(1)] long StartMs, [property: Id(2)] WindowAggregate Aggregate);

/// <summary>A key's partial session.</summary>
/// <param name="Key">The group key.</param>
/// <param name="Session">The events of the read that make it.</param>
[GenerateSerializer, Immutable, Alias("sg.session-partial")]
public sealed record SessionPartial([property: Id(0)] string Key, [property: Id(1)] SessionAggregate Session);

/// <summary>What a shard answers to a batch: which partials came too late (their window or session was already final), and its watermark.</summary>
/// <param name="LateWindows">Indexes into the batch's <see cref="AggregationBatch.Windows"/> of partials not taken.</param>
/// <param name="LateSessions">Indexes into the batch's <see cref="AggregationBatch.Sessions"/> of partials not taken.</param>
/// <param name="Replayed">Whether the shard already covered the batch's offsets and took none of it.</param>
/// <param name="StoredOffset">The offset of the batch's partition up to which the shard's stored state covers it: the feed lets Kafka commit no further.</param>
[GenerateSerializer, Immutable, Alias("sg.aggregation-reply")]
public sealed record AggregationReply(
    [property: Id(0)] IReadOnlyList<int> LateWindows,
    [property: Id(1)] IReadOnlyList<int> LateSessions,
    [property: Id(2)] bool Replayed,
    [property: Id(3)] long StoredOffset = 0)
{
    /// <summary>Everything taken.</summary>
    public static AggregationReply AllTaken { get; } = new([], [], false);
}
