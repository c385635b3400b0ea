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
        var late = new List<int>();
        late.AddRange(FeedAll(reader, state, definition, [(0, Click("u", 0, "a")), (1, Click("u", 5, "b")), (2, Click("u", 40, "c"))], emitted));
        // Watermark 40 s: the session 0..5 s closes at 5 + 10 + 5 = 20 s. An event at 12 s would have joined it: late.
        // An event at 32 s (32 + 10 + 5 = 47 > 40) is within the lateness and joins the session of 40 s.
        late.AddRange(FeedAll(reader, state, definition, [(3, Click("u", 12, "late")), (4, Click("u", 32, "d"))], emitted).Select(i => i + 3));
        Assert.Equal([3], late);
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
    public void While_a_partition_is_not_heard_of_a_session_key_is_not_poisoned()
    {
        // A re-keyed session shard of two partitions heard only of partition 0, far ahead: its watermark is unknown (not
        // long.MinValue minus the gap, which wrapped around and made every later partial of the key late).
        var definition = new AggregationDefinition("visits", new HashSet<string>(), GroupKind.Attribute, "page", WindowSpec.Session(TimeSpan.FromSeconds(20)), 5_000, 3_600_000);
        var state = new AggregationState();
        var emitted = new List<AggregationResult>();
        state.Merge(definition, new AggregationBatch(0, T0 + 100_000, 0, 1, [], [new SessionPartial("/", new StreamGrains.Aggregations.Sessions.SessionAggregate(T0, "view"))], InputPartitions: 2), nowMs: 0, idleMs: 10_000, emitted);
        state.Close(definition, nowMs: 1_000, idleMs: 10_000, emitted);
        var reply = state.Merge(definition, new AggregationBatch(1, T0 + 3_000, 1_000, 1, [], [new SessionPartial("/", new StreamGrains.Aggregations.Sessions.SessionAggregate(T0 + 2_000, "view"))], InputPartitions: 2), nowMs: 1_000, idleMs: 10_000, emitted);
        Assert.Empty(reply.LateSessions);
        Assert.Empty(emitted);
        Assert.Equal(2, state.Sessions("/")!.Single().Count);
    }

    [Fact]
    public void An_out_of_order_event_inside_an_open_session_joins_it()
    {
        // Gap 20 s: the session 0..100 s is open until the watermark reaches 120 s; an event at 50 s arriving at 100 s
        // belongs to it (Kafka Streams merges it), though 50 + 20 is below the watermark.
        var definition = Session(gap: 20_000, maxDuration: null, lateness: 0);
        var reader = new PartitionPreAggregator(0, [definition], new AggregationLimits(), shards: 1);
        var state = new AggregationState();
        var emitted = new List<AggregationResult>();
        var records = Enumerable.Range(0, 11).Select(i => ((long)i, Click("u", i * 10, "t"))).ToList();
        var late = new List<int>();
        late.AddRange(FeedAll(reader, state, definition, records, emitted));
        late.AddRange(FeedAll(reader, state, definition, [(11, Click("u", 50, "late-but-inside"))], emitted));
        Assert.Empty(late);
        Assert.Equal(12, state.Sessions("u")!.Single().Count);
    }

    [Fact]
    public void A_partial_for_a_window_the_shard_watermark_already_passed_is_late_even_for_a_key_it_never_closed()
    {
        // Partition 1 was idle while partition 0 moved the shard to 500 s; it comes back with an event of [200, 210):
        // that window is final (the shard's watermark passed it), so the event is late, not a second "final" window.
        var definition = new AggregationDefinition("all", new HashSet<string>(), GroupKind.Attribute, "page", WindowSpec.Tumbling(TimeSpan.FromSeconds(10)), 0, 3_600_000);
        var state = new AggregationState();
        var emitted = new List<AggregationResult>();
        state.Merge(definition, new AggregationBatch(1, T0 + 100_000, 0, 1, [], [], InputPartitions: 2), nowMs: 0, idleMs: 10_000, emitted);
        state.Merge(definition, new AggregationBatch(0, T0 + 500_000, 20_000, 1, [], [], InputPartitions: 2), nowMs: 20_000, idleMs: 10_000, emitted);
        var partial = new WindowAggregate();
        partial.Add(Click("x", 205, "view"));
        var reply = state.Merge(definition, new AggregationBatch(1, T0 + 205_000, 20_000, 2, [new WindowPartial("/a", T0 + 200_000, partial)], [], InputPartitions: 2), nowMs: 20_000, idleMs: 10_000, emitted);
        Assert.Equal([0], reply.LateWindows);
        Assert.Empty(emitted);
    }

    [Fact]
    public void A_rekeyed_shard_hears_the_last_watermark_between_reads_once_and_as_of_the_last_records()
    {
        // Page "/a" and page "/b" live in different shards (of 8). A read moves the watermark for both; a second read
        // within the heartbeat period carries "/b" only: the "/a" shard is not told then, and the traffic stops.
        var now = T0 + 100_000; // the wall clock, a little after the events
        var definition = new AggregationDefinition("pages", new HashSet<string>(), GroupKind.Attribute, "page", WindowSpec.Tumbling(TimeSpan.FromSeconds(10)), 0, 3_600_000);
        var reader = new PartitionPreAggregator(0, [definition], new AggregationLimits(), shards: 8, inputPartitions: 1);
        var shardA = PartitionPreAggregator.ShardOf(definition, "/a", 0, 8);
        var shardB = PartitionPreAggregator.ShardOf(definition, "/b", 0, 8);
        Assert.NotEqual(shardA, shardB);
        reader.Read([(0, Page("/a", 1)), (1, Page("/b", 2))], nowMs: now);
        var second = reader.Read([(2, Page("/b", 15))], nowMs: now + 200);
        Assert.DoesNotContain(second.Batches, b => b.Shard == shardA);

        // Between reads, within the period: nothing yet; after it, every shard behind the watermark, once.
        Assert.Empty(reader.Heartbeats(now + 500));
        var heartbeats = reader.Heartbeats(now + 1_300);
        var toA = Assert.Single(heartbeats, b => b.Shard == shardA).Batch;
        Assert.Equal((T0 + 15_000, now + 200, 3L), (toA.WatermarkMs, toA.LastRecordAtMs, toA.NextOffset));
        Assert.Empty(toA.Windows);
        Assert.DoesNotContain(heartbeats, b => b.Shard == shardB); // it had this watermark with its records
        Assert.NotEmpty(reader.Heartbeats(now + 2_000)); // not taken yet: offered again
        reader.Delivered(heartbeats, now + 1_300);
        Assert.Empty(reader.Heartbeats(now + 10_000));

        // The shard that hears it closes the window the partition's watermark passed.
        var state = new AggregationState();
        var emitted = new List<AggregationResult>();
        var first = new PartitionPreAggregator(0, [definition], new AggregationLimits(), shards: 8, inputPartitions: 1)
            .Read([(0, Page("/a", 1))], nowMs: now).Batches.Single(b => b.Shard == shardA).Batch;
        state.Merge(definition, first, nowMs: now, idleMs: 10_000, emitted);
        Assert.Empty(emitted);
        state.Merge(definition, toA, nowMs: now + 1_300, idleMs: 10_000, emitted);
        Assert.Equal(("/a", 1L), (Assert.Single(emitted).Key, emitted[0].Window!.Count));
    }

    [Fact]
    public void Values_beyond_any_sum_make_no_infinite_numbers()
    {
        var aggregate = new WindowAggregate();
        aggregate.Add(new StreamEvent { Entity = "e", Type = "t", Timestamp = Events.T0, Value = 1e308 });
        aggregate.Add(new StreamEvent { Entity = "e", Type = "t", Timestamp = Events.T0, Value = 1e308 });
        var view = AggregationResult.View(0, 10, aggregate, final: true);
        Assert.Null(view.Sum);
        Assert.Null(view.Avg);
        Assert.Equal(1e308, view.Max);
        Assert.Equal(2, view.Count);
    }

    [Fact]
    public void Records_a_shard_took_already_are_not_given_to_it_again_after_a_move_or_a_rewind()
    {
        // The partition's new reader starts at the committed offset 0; the shard took offsets 0 to 5 from the previous one.
        var definition = new AggregationDefinition("pay", new HashSet<string>(), GroupKind.Entity, null, WindowSpec.Tumbling(TimeSpan.FromSeconds(10)), 0, 3_600_000);
        var reader = new PartitionPreAggregator(0, [definition], new AggregationLimits(), shards: 1);
        Assert.Equal([(definition, "p0")], reader.Shards());
        reader.Covered("pay", "p0", 6);
        var read = reader.Read(Enumerable.Range(0, 10).Select(i => ((long)i, Click("c", i, "pay"))).ToList(), T0);
        var batch = Assert.Single(read.Batches);
        Assert.Equal(4, batch.Batch.Windows.Sum(w => w.Aggregate.Count));
        Assert.Equal([6, 7, 8, 9], batch.WindowRecords.SelectMany(r => r).Order());
        Assert.Equal(10, batch.Batch.NextOffset);
    }

    [Fact]
    public void Top_keys_come_from_the_latest_window_every_shard_has_finished()
    {
        // Two shards of one re-keyed aggregation: shard A has finished [10, 20) already, shard B only [0, 10). The top
        // keys are those of [0, 10) (final everywhere), not those of [10, 20) in A alone.
        var definition = new AggregationDefinition("pages", new HashSet<string>(), GroupKind.Attribute, "page", WindowSpec.Tumbling(TimeSpan.FromSeconds(10)), 0, 3_600_000);
        AggregationState Shard(params (string Key, double Seconds)[] clicks)
        {
            var state = new AggregationState();
            var partials = clicks.GroupBy(c => (c.Key, Start: T0 + (long)Math.Floor(c.Seconds / 10) * 10_000)).Select(g =>
            {
                var aggregate = new WindowAggregate();
                foreach (var click in g)
                {
                    aggregate.Add(Click("u", click.Seconds, "view"));
                }

                return new WindowPartial(g.Key.Key, g.Key.Start, aggregate);
            }).ToList();
            var watermark = T0 + (long)(clicks.Max(c => c.Seconds) * 1000);
            state.Merge(definition, new AggregationBatch(0, watermark, 0, 1, partials, []), nowMs: 0, idleMs: 10_000, []);
            return state;
        }

        var a = Shard(("/a", 1), ("/a", 2), ("/x", 15), ("/x", 16), ("/x", 17), ("/late", 25));
        var b = Shard(("/b", 1), ("/b", 2), ("/b", 3), ("/y", 11));
        var horizon = Math.Min(a.FinalHorizon(definition, 0, 10_000), b.FinalHorizon(definition, 0, 10_000));
        Assert.Equal(T0 + 11_000, horizon);
        Assert.Equal(long.MaxValue, a.FinalHorizon(definition, nowMs: 10_000, idleMs: 10_000)); // all idle: holds nothing back
        var top = a.Top(definition, 10, horizon).Concat(b.Top(definition, 10, horizon)).ToList();
        var latest = top.Max(k => k.WindowEnd);
        Assert.Equal([("/b", 3L), ("/a", 2L)], top.Where(k => k.WindowEnd == latest).OrderByDescending(k => k.Count).Select(k => (k.Key, k.Count)));
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

    /// <summary>Feeds a read and returns the indexes of every late record: the read path's and the shard's.</summary>
    private static List<int> FeedAll(PartitionPreAggregator reader, AggregationState state, AggregationDefinition definition, IReadOnlyList<(long, StreamEvent)> records, List<AggregationResult> emitted)
    {
        var read = reader.Read(records, T0);
        var late = read.Late.Select(l => l.Record).ToList();
        foreach (var batch in read.Batches)
        {
            var reply = state.Merge(definition, batch.Batch, T0, 10_000, emitted);
            late.AddRange(reply.LateWindows.SelectMany(i => batch.WindowRecords[i]));
            late.AddRange(reply.LateSessions.SelectMany(i => batch.SessionRecords[i]));
        }

        return late;
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

    private static StreamEvent Page(string page, double seconds) => new()
    {
        Id = $"{page}-{seconds}",
        Entity = "visitor",
        Type = "view",
        Timestamp = Events.T0.AddSeconds(seconds),
        Attributes = new Dictionary<string, AttributeValue> { ["page"] = page },
    };

    private static StreamEvent Click(string entity, double seconds, string type) => new()
    {
        Id = $"{entity}-{seconds}",
        Entity = entity,
        Type = type,
        Timestamp = Events.T0.AddSeconds(seconds),
    };
}
