using CsCheck;
using StreamGrains.Aggregations;
using StreamGrains.Aggregations.Windows;
using StreamGrains.Events;

namespace StreamGrains.Grains.Tests.Aggregations;

/// <summary>
/// Tumbling and hopping windows through the whole core (read-path pre-aggregation in reads of random size, then the
/// shard's merge and close), against a reference computed here one event at a time from the same events: which windows
/// become final with what numbers, and which events are late.
/// </summary>
public sealed class WindowReferenceTests
{
    private static readonly long T0 = Events.T0.ToUnixTimeMilliseconds();
    private static readonly AggregationLimits Limits = new() { MaxFutureSkew = TimeSpan.FromDays(36_500) };

    [Fact]
    public void Window_starts_are_every_aligned_window_holding_the_time()
    {
        Gen.Select(Gen.Long[-100_000, 100_000], Gen.Int[1, 50], Gen.Int[1, 50]).Sample((time, advance, extra) =>
        {
            var spec = new WindowSpec(WindowKind.Hopping, advance + extra, advance, 0, 0);
            var starts = new List<long>();
            spec.StartsOf(time, starts);
            var expected = new List<long>();
            for (var start = time - spec.SizeMs - advance; start <= time + advance; start++)
            {
                if (WindowSpec.FloorTo(start, advance) == start && start <= time && time < start + spec.SizeMs)
                {
                    expected.Add(start);
                }
            }

            Assert.Equal(expected.Order(), starts.Order());
        }, iter: 2_000);
    }

    [Theory]
    [InlineData("Tumbling", 10_000, 10_000, 0)]
    [InlineData("Tumbling", 10_000, 10_000, 5_000)]
    [InlineData("Hopping", 10_000, 2_500, 0)]
    [InlineData("Hopping", 10_000, 5_000, 3_000)]
    public void Final_windows_and_late_events_match_a_reference_computed_event_by_event(string kind, int sizeMs, int advanceMs, int latenessMs)
    {
        var spec = kind == "Tumbling" ? WindowSpec.Tumbling(TimeSpan.FromMilliseconds(sizeMs)) : WindowSpec.Hopping(TimeSpan.FromMilliseconds(sizeMs), TimeSpan.FromMilliseconds(advanceMs));
        var definition = new AggregationDefinition("payments", new HashSet<string>(), GroupKind.Entity, null, spec, latenessMs, 3_600_000);
        Gen.Int[0, 400].Select(Gen.Int[0, 9], Gen.Int[0, 2], Gen.Int[1, 40]).Array[1, 300].Select(Gen.Int[1, 50]).Sample((steps, readSize) =>
        {
            // Mostly ascending times with jitter backwards (out of order, some beyond the lateness), a few entities.
            var events = new List<StreamEvent>();
            long clock = 0;
            foreach (var (step, back, entity, value) in steps)
            {
                clock += step * 7;
                var time = clock - (back * back * 900);
                events.Add(new StreamEvent { Id = $"e{events.Count}", Entity = $"card-{entity}", Type = "payment", Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(T0 + time), Value = value * 1.25 });
            }

            var (windows, late) = Reference(definition, events);
            var (actualWindows, actualLate) = RunCore(definition, events, readSize);
            Assert.Equal(late.Order(), actualLate.Order());
            Assert.Equal(windows.Keys.Order(), actualWindows.Keys.Order());
            foreach (var (window, expected) in windows)
            {
                var actual = actualWindows[window];
                Assert.Equal(expected.Count, actual.Count);
                Assert.Equal((double)expected.Sum, actual.Sum);
                Assert.Equal(expected.Min, actual.Min);
                Assert.Equal(expected.Max, actual.Max);
                Assert.Equal(expected.Entities.Count, actual.DistinctEntities);
            }
        }, iter: 150);
    }

    [Theory]
    [InlineData(10_000, 0)]
    [InlineData(10_000, 4_000)]
    [InlineData(1, 0)]
    public void Sliding_windows_match_KIP_450_computed_from_the_same_events(int differenceMs, int latenessMs)
    {
        var spec = WindowSpec.Sliding(TimeSpan.FromMilliseconds(differenceMs));
        var definition = new AggregationDefinition("slide", new HashSet<string>(), GroupKind.Entity, null, spec, latenessMs, 3_600_000);
        Gen.Int[0, 400].Select(Gen.Int[0, 9], Gen.Int[0, 1], Gen.Int[1, 40]).Array[1, 200].Select(Gen.Int[1, 50]).Sample((steps, readSize) =>
        {
            var events = new List<StreamEvent>();
            long clock = 0;
            foreach (var (step, back, entity, value) in steps)
            {
                clock += step * 29;
                events.Add(new StreamEvent { Id = $"e{events.Count}", Entity = $"card-{entity}", Type = "payment", Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(T0 + clock - (back * back * 700)), Value = value });
            }

            // Reference (KIP-450): per key, out of the events not late, each event time t makes [t - d, t] and, when an
            // event falls in (t, t + d], [t + 1, t + 1 + d]; a window is final once the watermark passed its end (exclusive)
            // by the lateness. An event is late when its own window [t - d, t] was final when it came.
            var watermark = long.MinValue;
            var late = new List<string>();
            var taken = new List<StreamEvent>();
            foreach (var evt in events)
            {
                var time = evt.Timestamp.ToUnixTimeMilliseconds();
                watermark = Math.Max(watermark, time);
                if (time + 1 + latenessMs <= watermark)
                {
                    late.Add(evt.Id!);
                }
                else
                {
                    taken.Add(evt);
                }
            }

            var expected = new Dictionary<(string Key, long Start), (long Count, decimal Sum)>();
            foreach (var key in taken.GroupBy(e => e.Entity))
            {
                var times = key.Select(e => e.Timestamp.ToUnixTimeMilliseconds()).Distinct().Order().ToList();
                var starts = new HashSet<long>();
                foreach (var t in times)
                {
                    starts.Add(t - differenceMs);
                    if (times.Any(u => u > t && u <= t + differenceMs))
                    {
                        starts.Add(t + 1);
                    }
                }

                foreach (var start in starts.Where(s => s + differenceMs + 1 + latenessMs <= watermark))
                {
                    var inside = key.Where(e => e.Timestamp.ToUnixTimeMilliseconds() >= start && e.Timestamp.ToUnixTimeMilliseconds() <= start + differenceMs).ToList();
                    expected[(key.Key, start)] = (inside.Count, inside.Sum(e => (decimal)e.Value!.Value));
                }
            }

            var (actualWindows, actualLate) = RunCore(definition, events, readSize);
            Assert.Equal(late.Order(), actualLate.Order());
            Assert.Equal(expected.Keys.Order(), actualWindows.Keys.Order());
            foreach (var (window, (count, sum)) in expected)
            {
                Assert.Equal(count, actualWindows[window].Count);
                Assert.Equal((double)sum, actualWindows[window].Sum);
            }
        }, iter: 150);
    }

    /// <summary>Event by event: the watermark is the highest time so far; an event's window that is already past its end plus the lateness does not take it.</summary>
    private static (Dictionary<(string Key, long Start), Expected> Final, List<string> Late) Reference(AggregationDefinition definition, List<StreamEvent> events)
    {
        var spec = definition.Window;
        var watermark = long.MinValue;
        var windows = new Dictionary<(string, long), Expected>();
        var late = new List<string>();
        foreach (var evt in events)
        {
            var time = evt.Timestamp.ToUnixTimeMilliseconds();
            watermark = Math.Max(watermark, time);
            var wasLate = false;
            for (var start = WindowSpec.FloorTo(time, spec.AdvanceMs); start > time - spec.SizeMs; start -= spec.AdvanceMs)
            {
                if (start + spec.SizeMs + definition.AllowedLatenessMs <= watermark)
                {
                    wasLate = true;
                    continue;
                }

                if (!windows.TryGetValue((evt.Entity, start), out var window))
                {
                    windows[(evt.Entity, start)] = window = new Expected();
                }

                window.Add(evt);
            }

            if (wasLate)
            {
                late.Add(evt.Id!);
            }
        }

        var final = windows.Where(w => w.Key.Item2 + spec.SizeMs + definition.AllowedLatenessMs <= watermark).ToDictionary(w => w.Key, w => w.Value);
        return (final, late);
    }

    private static (Dictionary<(string Key, long Start), WindowAggregate> Final, List<string> Late) RunCore(AggregationDefinition definition, List<StreamEvent> events, int readSize)
    {
        var reader = new PartitionPreAggregator(0, [definition], Limits, shards: 4);
        var state = new AggregationState();
        var final = new Dictionary<(string, long), WindowAggregate>();
        var late = new List<string>();
        var emitted = new List<AggregationResult>();
        var offset = 0L;
        foreach (var chunk in events.Chunk(readSize))
        {
            var read = chunk.Select(e => (offset++, e)).ToList();
            var result = reader.Read(read, nowMs: T0);
            late.AddRange(result.Late.Select(l => read[l.Record].e.Id!));
            foreach (var batch in result.Batches)
            {
                Assert.Equal("p0", batch.Shard);
                var reply = state.Merge(definition, batch.Batch, T0, 10_000, emitted);
                Assert.Empty(reply.LateWindows); // grouped by entity, the read path knows the watermark exactly
            }
        }

        foreach (var result in emitted)
        {
            Assert.True(final.TryAdd((result.Key, result.StartMs), result.Window!), "a window was emitted twice");
        }

        return (final, late);
    }

    private sealed class Expected
    {
        public long Count { get; private set; }

        public decimal Sum { get; private set; }

        public double? Min { get; private set; }

        public double? Max { get; private set; }

        public HashSet<string> Entities { get; } = [];

        public void Add(StreamEvent evt)
        {
            Count++;
            Entities.Add(evt.Entity);
            var value = evt.Value!.Value;
            Sum += (decimal)value;
            Min = Math.Min(Min ?? double.MaxValue, value);
            Max = Math.Max(Max ?? double.MinValue, value);
        }
    }
}
