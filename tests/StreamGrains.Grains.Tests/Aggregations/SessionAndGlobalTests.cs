using CsCheck;
using StreamGrains.Aggregations;
using StreamGrains.Aggregations.Windows;
using StreamGrains.Events;

namespace StreamGrains.Grains.Tests.Aggregations;

/// <summary>Sessions split by gap and capped by maximum duration; a global key fed by every partition; late and future events.</summary>
public sealed class SessionAndGlobalTests
{
    private static readonly long T0 = Events.T0.ToUnixTimeMilliseconds();

    [Fact]
    public void Sessions_split_at_gaps_are_capped_at_the_maximum_duration_and_close_when_the_watermark_passes_them()
    {
        var definition = Session(gap: 30_000, maxDuration: 120_000, lateness: 0);
        var reader = new PartitionPreAggregator(0, [definition], new AggregationLimits(), shards: 1);
        var state = new AggregationState();
        var emitted = new List<AggregationResult>();
        // user-1: 0, 10, 20 s (one session), then 100 s (gap of 80 s: a new one), then every 20 s from 100 to 300 s: capped
        // at 120 s, so 100..220 and 240..300.
        var times = new[] { 0, 10, 20 }.Concat(Enumerable.Range(0, 11).Select(i => 100 + (i * 20))).ToList();
        var records = times.Select((t, i) => ((long)i + 1, Click("user-1", t, i % 2 == 0 ? "view" : "click"))).ToList();
        records.Insert(0, (0, Click("user-2", 5, "view")));
        // Read in two parts: the shard merges what each read pre-aggregated.
        Assert.Empty(Feed(reader, state, definition, records[..8], emitted));
        Assert.Empty(Feed(reader, state, definition, records[8..], emitted));

        // The watermark is at 300 s: sessions ending by 270 s are closed.
        var closed = emitted.Select(e => (e.Key, Start: (e.StartMs - T0) / 1000, End: (e.EndMs - T0) / 1000, e.Session!.Count)).OrderBy(e => e.Key).ThenBy(e => e.Start).ToList();
        Assert.Equal([("user-1", 0L, 20L, 3L), ("user-1", 100L, 220L, 7L), ("user-2", 5L, 5L, 1L)], closed);
        var open = state.Sessions("user-1")!.Where(s => !s.Closed).Single();
        Assert.Equal((240, 300, 4), ((open.Start.ToUnixTimeMilliseconds() - T0) / 1000, (open.End.ToUnixTimeMilliseconds() - T0) / 1000, open.Count));
        Assert.Equal(["view", "click", "view"], state.Sessions("user-1")![0].Types);
        Assert.Equal(20_000, state.Sessions("user-1")![0].DurationMs);
    }

    [Fact]
    public void Sessions_are_the_same_whatever_reads_the_events_came_in_and_match_a_reference()
    {
        Gen.Int[0, 60].Array[1, 200].Select(Gen.Int[1, 40], Gen.Bool).Sample((steps, readSize, capped) =>
        {
            var definition = Session(gap: 20_000, maxDuration: capped ? 90_000 : null, lateness: 0);
            var times = new List<long>();
            long clock = 0;
            foreach (var step in steps)
            {
                clock += step * 1_000;
                times.Add(clock);
            }

            // Reference: split at gaps over 20 s, then (capped) into parts of at most 90 s from each part's first event.
            var expected = new List<(long Start, long End, long Count)>();
            var part = new List<long> { times[0] };
            var sessionLast = times[0];
            foreach (var time in times.Skip(1))
            {
                if (time - sessionLast > 20_000 || (capped && time - part[0] > 90_000))
                {
                    expected.Add((part[0], part[^1], part.Count));
                    part = [];
                }

                part.Add(time);
                sessionLast = time;
            }

            expected.Add((part[0], part[^1], part.Count));

            var reader = new PartitionPreAggregator(0, [definition], new AggregationLimits { MaxFutureSkew = TimeSpan.FromDays(36_500) }, shards: 1);
            var state = new AggregationState();
            var emitted = new List<AggregationResult>();
            var records = times.Select((t, i) => ((long)i, Click("u", t / 1000.0, "t"))).ToList();
            records.Add((records.Count, Click("other", (clock + 1_000_000) / 1000.0, "t"))); // moves the watermark past everything
            foreach (var chunk in records.Chunk(readSize))
            {
                Assert.Empty(Feed(reader, state, definition, chunk, emitted));
            }

            var actual = emitted.Where(e => e.Key == "u").Select(e => (e.StartMs - T0, e.EndMs - T0, e.Session!.Count)).ToList();
            Assert.Equal(expected, actual);
        }, iter: 300);
    }

    [Fact]
    public void An_event_that_would_join_a_closed_session_is_late_and_one_within_the_lateness_joins()
    {
        var definition = Session(gap: 10_000, maxDuration: null, lateness: 5_000);
        var reader = new PartitionPreAggregator(0, [definition], new AggregationLimits(), shards: 1);
        var state = new AggregationState();
        var emitted = new List<AggregationResult>();
        var late = new List<LateRecord>();
        late.AddRange(Feed(reader, state, definition, [(0, Click("u", 0, "a")), (1, Click("u", 5, "b")), (2, Click("u", 40, "c"))], emitted));
        // Watermark 40 s: the session 0..5 s closes at 5 + 10 + 5 = 20 s. An event at 12 s would have joined it: late.
        // An event at 32 s (32 + 10 + 5 = 47 > 40) is within the lateness and joins the session of 40 s.
        late.AddRange(Feed(reader, state, definition, [(3, Click("u", 12, "late")), (4, Click("u", 32, "d"))], emitted));
        Assert.Equal([3], late.Select(l => l.Record + 3));
        Assert.Single(emitted);
        Assert.Equal(2, emitted[0].Session!.Count);
        var open = Assert.Single(state.Sessions("u")!, s => !s.Closed);
        Assert.Equal(["d", "c"], open.Types);
    }

    [Fact]
    public void A_global_key_fed_by_every_partition_totals_exactly_once_every_partition_passed_the_window()
    {
        var definition = new AggregationDefinition("all", new HashSet<string>(), GroupKind.Global, null, WindowSpec.Tumbling(TimeSpan.FromSeconds(10)), 0, 3_600_000);
        var readers = Enumerable.Range(0, 4).Select(p => new PartitionPreAggregator(p, [definition], new AggregationLimits(), shards: 4, inputPartitions: 4)).ToArray();
        var state = new AggregationState();
        var emitted = new List<AggregationResult>();
        var random = new Random(7);
        var expected = new Dictionary<long, (long Count, decimal Sum)>();
        var offsets = new long[4];
        for (var round = 0; round < 50; round++)
        {
            foreach (var p in Enumerable.Range(0, 4).OrderBy(_ => random.Next()))
            {
                // Each partition in time order, the partitions at different speeds.
                var records = new List<(long, StreamEvent)>();
                for (var i = 0; i < 20; i++)
                {
                    var time = (round * 1000) + (i * 40) + (p * 7);
                    var value = random.Next(1, 1000) / 100.0;
                    records.Add((offsets[p]++, new StreamEvent { Id = $"{p}-{offsets[p]}", Entity = $"card-{random.Next(50)}", Type = "payment", Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(T0 + time), Value = value }));
                    var start = WindowSpec.FloorTo(T0 + time, 10_000);
                    var (count, sum) = expected.GetValueOrDefault(start);
                    expected[start] = (count + 1, sum + (decimal)value);
                }

                var read = readers[p].Read(records, T0);
                Assert.Empty(read.Late);
                foreach (var batch in read.Batches)
                {
                    Assert.Equal(PartitionPreAggregator.ShardOf(definition, "*", p, 4), batch.Shard == $"p{p}" ? batch.Shard : PartitionPreAggregator.ShardOf(definition, "*", p, 4));
                    if (batch.Shard == PartitionPreAggregator.ShardOf(definition, "*", 0, 4))
                    {
                        Assert.Empty(state.Merge(definition, batch.Batch, T0, 10_000, emitted).LateWindows);
                    }
                }
            }
        }

        // Every partition's watermark is past 40 s: the windows up to it are final, each exactly once, with the exact total.
        var final = emitted.ToDictionary(e => e.StartMs, e => e.Window!);
        Assert.Equal(4, final.Count);
        foreach (var (start, window) in final)
        {
            Assert.Equal(expected[start].Count, window.Count);
            Assert.Equal((double)expected[start].Sum, window.Sum);
        }

        Assert.Equal(expected.Where(e => final.ContainsKey(e.Key)).Sum(e => e.Value.Count), final.Values.Sum(w => w.Count));
    }

    [Fact]
    public void The_slowest_active_partition_holds_a_global_window_back_until_it_is_idle()
    {
        var definition = new AggregationDefinition("all", new HashSet<string>(), GroupKind.Global, null, WindowSpec.Tumbling(TimeSpan.FromSeconds(10)), 0, 3_600_000);
        var state = new AggregationState();
        var emitted = new List<AggregationResult>();
        var partial = new WindowAggregate();
        partial.Add(Click("x", 1, "view"));
        state.Merge(definition, new AggregationBatch(0, T0 + 1_000, LastRecordAtMs: 0, NextOffset: 1, [new WindowPartial("*", T0, partial)], []), nowMs: 0, idleMs: 10_000, emitted);
        state.Merge(definition, new AggregationBatch(1, T0 + 60_000, LastRecordAtMs: 0, NextOffset: 1, [], []), nowMs: 0, idleMs: 10_000, emitted);
        Assert.Empty(emitted); // partition 0 is at 1 s
        state.Close(definition, nowMs: 9_999, idleMs: 10_000, emitted);
        Assert.Empty(emitted);
        state.Close(definition, nowMs: 10_000, idleMs: 10_000, emitted); // both idle now: the highest watermark counts
        Assert.Single(emitted);
    }

    [Fact]
    public void A_partition_not_heard_of_yet_holds_a_re_keyed_window_back_until_the_idle_timeout()
    {
        var definition = new AggregationDefinition("all", new HashSet<string>(), GroupKind.Global, null, WindowSpec.Tumbling(TimeSpan.FromSeconds(10)), 0, 3_600_000);
        var state = new AggregationState();
        var emitted = new List<AggregationResult>();
        var partial = new WindowAggregate();
        partial.Add(Click("x", 1, "view"));
        // Partition 0 of two is far ahead; partition 1 has not said anything yet (its first read may still be on its way).
        state.Merge(definition, new AggregationBatch(0, T0 + 60_000, LastRecordAtMs: 0, NextOffset: 1, [new WindowPartial("*", T0, partial)], [], InputPartitions: 2), nowMs: 0, idleMs: 10_000, emitted);
        Assert.Empty(emitted);
        var late = new WindowAggregate();
        late.Add(Click("y", 2, "view"));
        Assert.Empty(state.Merge(definition, new AggregationBatch(1, T0 + 5_000, LastRecordAtMs: 1_000, NextOffset: 1, [new WindowPartial("*", T0, late)], [], InputPartitions: 2), nowMs: 1_000, idleMs: 10_000, emitted).LateWindows);
        state.Merge(definition, new AggregationBatch(1, T0 + 61_000, LastRecordAtMs: 2_000, NextOffset: 2, [], [], InputPartitions: 2), nowMs: 2_000, idleMs: 10_000, emitted);
        Assert.Equal(2, Assert.Single(emitted).Window!.Count);
    }

    [Fact]
    public void An_event_far_ahead_of_the_wall_clock_is_late_and_moves_no_watermark()
    {
        var definition = new AggregationDefinition("pay", new HashSet<string>(), GroupKind.Entity, null, WindowSpec.Tumbling(TimeSpan.FromSeconds(10)), 0, 3_600_000);
        var reader = new PartitionPreAggregator(0, [definition], new AggregationLimits { MaxFutureSkew = TimeSpan.FromHours(1) }, shards: 1);
        var read = reader.Read([(0, Click("c", 0, "pay")), (1, Click("c", 2 * 3600, "pay"))], nowMs: T0);
        Assert.Equal([new LateRecord(1, "pay", LateReason.FutureSkew)], read.Late);
        Assert.Equal(T0, reader.WatermarkMs);
    }

    private static List<LateRecord> Feed(PartitionPreAggregator reader, AggregationState state, AggregationDefinition definition, IReadOnlyList<(long, StreamEvent)> records, List<AggregationResult> emitted)
    {
        var read = reader.Read(records, T0);
        foreach (var batch in read.Batches)
        {
            var reply = state.Merge(definition, batch.Batch, T0, 10_000, emitted);
            Assert.Empty(reply.LateSessions);
        }

        return [.. read.Late];
    }

    private static AggregationDefinition Session(long gap, long? maxDuration, long lateness) =>
        new("sessions", new HashSet<string>(), GroupKind.Entity, null, WindowSpec.Session(TimeSpan.FromMilliseconds(gap), maxDuration is { } max ? TimeSpan.FromMilliseconds(max) : null), lateness, 3_600_000);

    private static StreamEvent Click(string entity, double seconds, string type) => new()
    {
        Id = $"{entity}-{seconds}",
        Entity = entity,
        Type = type,
        Timestamp = Events.T0.AddSeconds(seconds),
    };
}
