using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using StreamGrains.Events;
using StreamGrains.Kafka;
using StreamGrains.Kafka.Embedded;
using StreamGrains.Kafka.Providers;
using StreamGrains.Silo.Hosting;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.Stream;
using Streamiz.Kafka.Net.Table;

namespace StreamGrains.Benchmarks;

/// <summary>
/// Issue #18: a tumbling one-minute count per key, final results only, through three engines on the same embedded broker
/// with the same data, in one run:
///  - <b>raw consumer</b>: one Confluent.Kafka consumer assigned every partition, parsing each event and counting per key
///    and window in a dictionary; a window is final when every partition's highest event time has passed its end (the
///    ceiling: no output, no state beyond a dictionary);
///  - <b>Streamiz</b> (Streamiz.Kafka.Net, the .NET port of Kafka Streams): GroupByKey, WindowedBy(tumbling, no grace),
///    Count into an in-memory window store, Suppress(UntilWindowClose), to an output topic. Its stores and suppression
///    buffer keep no changelog (the embedded broker cannot create topics), so it does less than Kafka Streams would;
///  - <b>StreamGrains</b>: the silo as the README runs it (in this process), one aggregation
///    (<c>Window:Kind Tumbling</c>, <c>Size 00:01:00</c>, group by entity), Memory storage, profiles off
///    (<c>StreamGrains:Profiles:Enabled false</c>; <c>--profiles</c>: on, a profile grain per key and no rules), final windows to its <c>aggregates</c> topic with every metric
///    (sum, min, max, distinct entities, quantiles) as the contract has them.
/// The events (300,000 by default, ~150 bytes, 10,000 keys, 16 partitions, written to the partition Kafka's default
/// partitioner picks for the key) have event times one millisecond apart, so five one-minute windows close one after the
/// other while the run goes on; a last event per partition, ten minutes later, closes the last of them. Every engine's
/// final windows are checked against the counts the bench computes from the data: a wrong or missing count fails the run.
/// Modes, as the provider benchmark has them:
///  - <b>live</b>: the engine is up and reading, then the events are produced as fast as the producer goes; events/s runs
///    from the first event produced to the last final window seen, and the latency of each window is from the moment the
///    event that made it final was produced (the first event at or past its end, on the last partition to get one) to
///    the moment its last key's final count was seen: by the raw consumer itself, for the others by a consumer of their
///    output topic in this process (the same for both);
///  - <b>backlog</b>: the events are written first; the clock starts at the engine's first read (raw: its first record;
///    Streamiz: its first timestamp extraction; StreamGrains: the provider's first read) and stops at the last final window.
///   dotnet run -c Release --project bench/StreamGrains.Benchmarks -- --aggregations [--records N] [--entities K] [--partitions P] [--rounds R] [--mode live|backlog|both] [--streamiz-threads T] [--fetch-wait-ms W] [--engines raw,streamiz,streamgrains] [--rate EVENTS_PER_S] [--profiles] [--alloc-types]
/// </summary>
internal static class AggregationBenchmark
{
    private const long WindowMs = 60_000;

    public static async Task<int> RunAsync(string[] args)
    {
        var records = int.Parse(ClusterBenchmark.Value(args, "--records", "300000"), CultureInfo.InvariantCulture);
        var entities = int.Parse(ClusterBenchmark.Value(args, "--entities", "10000"), CultureInfo.InvariantCulture);
        var partitions = int.Parse(ClusterBenchmark.Value(args, "--partitions", "16"), CultureInfo.InvariantCulture);
        var rounds = int.Parse(ClusterBenchmark.Value(args, "--rounds", "3"), CultureInfo.InvariantCulture);
        var streamizThreads = int.Parse(ClusterBenchmark.Value(args, "--streamiz-threads", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        // The embedded broker answers a fetch only when fetch.wait.max.ms is over (a real broker answers when a record
        // arrives), so every consumer here, the engines' and the output readers', waits the same.
        var fetchWaitMs = int.Parse(ClusterBenchmark.Value(args, "--fetch-wait-ms", "5"), CultureInfo.InvariantCulture);
        var modeArg = ClusterBenchmark.Value(args, "--mode", "both");
        Engine.Rate = int.Parse(ClusterBenchmark.Value(args, "--rate", "0"), CultureInfo.InvariantCulture);
        // --alloc-types: which types the live runs allocate, by the runtime's allocation ticks (one engine at a time).
        using var sampler = args.Contains("--alloc-types") ? new AllocationTypes() : null;
        Engine.Sampler = sampler;
        var modes = modeArg == "both" ? new[] { true, false } : new[] { modeArg == "live" };

        var workload = Workload.Create(records, entities, partitions);
        using var kafka = EmbeddedKafkaCluster.Start();
        var engines = new Engine[]
        {
            new RawEngine(kafka, workload, fetchWaitMs),
            new StreamizEngine(kafka, workload, fetchWaitMs, streamizThreads),
            new StreamGrainsEngine(kafka, workload, fetchWaitMs, profiles: args.Contains("--profiles")),
        };
        // --engines raw,streamiz,streamgrains (default: all three; the ratios need all three).
        var only = ClusterBenchmark.Value(args, "--engines", "raw,streamiz,streamgrains").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var chosen = engines.Where(e => only.Contains(e.Key, StringComparer.OrdinalIgnoreCase)).ToList();

        Console.WriteLine($"# Aggregations: tumbling 1-minute count per key, final windows; {records:N0} events of {workload.AverageBytes:F0} bytes on {entities:N0} keys, {partitions} partitions, {workload.Windows.Count} windows; {Environment.ProcessorCount} cores; fetch.wait.max.ms {fetchWaitMs}; Streamiz {streamizThreads} thread(s); live production {(Engine.Rate > 0 ? $"at {Engine.Rate:N0} events/s" : "as fast as the producer goes")}; {rounds} rounds after a warm-up");
        var results = new List<Result>();
        for (var round = 0; round <= rounds; round++)
        {
            foreach (var live in modes)
            {
                foreach (var engine in chosen)
                {
                    var result = await engine.RunAsync(round, live);
                    Console.WriteLine($"round {round}{(round == 0 ? " (warm-up, not recorded)" : string.Empty)}, {(live ? "live" : "backlog")}: {engine.Name}: {result.EventsPerSecond:N0} events/s{(live ? $", final-window latency per window (ms): {string.Join(", ", result.WindowLatenciesMs.Select(l => l.ToString("N0", CultureInfo.InvariantCulture)))}; process CPU {result.CpuUsPerEvent:F1} us and {result.BytesPerEvent:N0} bytes allocated per event" : string.Empty)}");
                    if (round > 0)
                    {
                        results.Add(result with { Engine = engine.Name, Live = live });
                    }
                }
            }
        }

        foreach (var (type, bytes) in sampler?.Top(30) ?? [])
        {
            Console.WriteLine($"#   allocated, sampled: {bytes,14:N0} bytes  {type}");
        }

        Console.WriteLine();
        Console.WriteLine("| mode | engine | events/s (median) | runs | final-window latency p50 / max (ms, every window of every run) |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var group in results.GroupBy(r => (r.Live, r.Engine)))
        {
            var rates = group.Select(r => r.EventsPerSecond).Order().ToList();
            var latencies = group.SelectMany(r => r.WindowLatenciesMs).Order().ToList();
            var latency = group.Key.Live && latencies.Count > 0 ? $"{latencies[latencies.Count / 2]:N0} / {latencies[^1]:N0}" : "-";
            Console.WriteLine($"| {(group.Key.Live ? "live" : "backlog")} | {group.Key.Engine} | {rates[rates.Count / 2]:N0} | {string.Join(", ", rates.Select(v => v.ToString("N0", CultureInfo.InvariantCulture)))} | {latency} |");
        }

        Console.WriteLine();
        foreach (var live in rounds > 0 && chosen.Count == engines.Length ? modes : [])
        {
            double Median(string engine) => results.Where(r => r.Live == live && r.Engine == engine).Select(r => r.EventsPerSecond).Order().ElementAt(rounds / 2);
            var streamGrains = Median(engines[2].Name);
            Console.WriteLine($"{(live ? "live" : "backlog")}: StreamGrains / Streamiz {streamGrains / Median(engines[1].Name):F2}x; StreamGrains / raw consumer {streamGrains / Median(engines[0].Name):P0} (medians)");
        }

        return 0;
    }

    /// <summary>One run's outcome.</summary>
    private sealed record Result(double EventsPerSecond, IReadOnlyList<double> WindowLatenciesMs, double? CpuUsPerEvent = null, double? BytesPerEvent = null)
    {
        public string Engine { get; init; } = string.Empty;

        public bool Live { get; init; }
    }

    /// <summary>
    /// The data and what a correct engine must answer: the events (each with its partition), a closing event per
    /// partition, the expected count of every key in every window, and which event makes each window final.
    /// </summary>
    private sealed class Workload
    {
        private Workload(List<(Message<string, byte[]> Message, int Partition)> events, int partitions)
        {
            Events = events;
            Partitions = partitions;
        }

        public List<(Message<string, byte[]> Message, int Partition)> Events { get; }

        public int Partitions { get; }

        /// <summary>The number of events that count (the closing events fall in a window that stays open).</summary>
        public int Counted { get; private init; }

        /// <summary>Expected count by window start, then key.</summary>
        public SortedDictionary<long, Dictionary<string, long>> Windows { get; } = [];

        /// <summary>By window start: the index of the event whose production makes the window final.</summary>
        public Dictionary<long, int> FinalAt { get; } = [];

        public double AverageBytes => Events.Take(Counted).Average(e => e.Message.Value.Length);

        public static Workload Create(int records, int keys, int partitions)
        {
            var random = new Random(42);
            // Event times of the recent past, aligned so that windows close as the run goes.
            var start = DateTimeOffset.FromUnixTimeMilliseconds((DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / WindowMs * WindowMs) - (30 * WindowMs));
            var events = new List<(Message<string, byte[]>, int)>(records + partitions);
            for (var i = 0; i < records; i++)
            {
                var key = $"card-{random.Next(keys):D6}";
                var value = StreamEventJson.Serialize(new StreamEvent
                {
                    Id = $"evt-{i}",
                    Entity = key,
                    Type = "payment",
                    Timestamp = start.AddMilliseconds(i),
                    Value = Math.Round(random.NextDouble() * 100, 2),
                    Attributes = new Dictionary<string, AttributeValue> { ["merchant"] = $"m-{random.Next(500)}", ["country"] = "DE" },
                });
                events.Add((Message(key, value, start.AddMilliseconds(i)), KafkaPartitioner.PartitionOf(Encoding.UTF8.GetBytes(key), partitions)));
            }

            // One event per partition, ten minutes after the last: every window of the data is final once each is read.
            var closing = start.AddMilliseconds(records).AddMinutes(10);
            for (var p = 0; p < partitions; p++)
            {
                var key = $"close-{p}";
                events.Add((Message(key, StreamEventJson.Serialize(new StreamEvent { Id = $"close-{p}", Entity = key, Type = "tick", Timestamp = closing }), closing), p));
            }

            var workload = new Workload(events, partitions) { Counted = records };
            for (var i = 0; i < records; i++)
            {
                var message = events[i].Item1;
                var windowStart = message.Timestamp.UnixTimestampMs / WindowMs * WindowMs;
                var counts = workload.Windows.TryGetValue(windowStart, out var c) ? c : workload.Windows[windowStart] = [];
                counts[message.Key] = counts.GetValueOrDefault(message.Key) + 1;
            }

            // A window is final once every partition has an event at or past its end: the first such event of each
            // partition (events come in event-time order), and of those the last produced.
            var ends = workload.Windows.Keys.Select(windowStart => windowStart + WindowMs).ToList();
            var first = new Dictionary<(long End, int Partition), int>();
            for (var i = 0; i < events.Count; i++)
            {
                var (message, partition) = events[i];
                foreach (var end in ends.Where(end => message.Timestamp.UnixTimestampMs >= end))
                {
                    first.TryAdd((end, partition), i);
                }
            }

            foreach (var windowStart in workload.Windows.Keys)
            {
                workload.FinalAt[windowStart] = Enumerable.Range(0, partitions).Max(p => first[(windowStart + WindowMs, p)]);
            }

            return workload;
        }

        private static Message<string, byte[]> Message(string key, byte[] value, DateTimeOffset time) =>
            new() { Key = key, Value = value, Timestamp = new Timestamp(time) };
    }

    /// <summary>
    /// Final windows as an engine reports them, checked against the workload; notes when each window's last key arrived.
    /// Thread-safe enough for one reporting thread and one waiting thread.
    /// </summary>
    private sealed class FinalWindows(Workload workload)
    {
        private readonly Dictionary<long, int> _keysLeft = workload.Windows.ToDictionary(w => w.Key, w => w.Value.Count);
        private readonly Dictionary<long, long> _completedAt = [];
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _windowsLeft = workload.Windows.Count;

        public Task All => _all.Task;

        public IReadOnlyDictionary<long, long> CompletedAt => _completedAt;

        public long LastCompletedAt => _completedAt.Values.Max();

        public void Report(string key, long windowStart, long count)
        {
            if (!workload.Windows.TryGetValue(windowStart, out var expected))
            {
                return; // the closing events' window (never final here) or nothing of the data
            }

            if (!expected.TryGetValue(key, out var want) || want != count)
            {
                _all.TrySetException(new InvalidOperationException($"Window {DateTimeOffset.FromUnixTimeMilliseconds(windowStart):O}, key {key}: final count {count}, expected {(expected.TryGetValue(key, out var w) ? w : 0)}"));
                return;
            }

            if (--_keysLeft[windowStart] == 0)
            {
                _completedAt[windowStart] = Stopwatch.GetTimestamp();
                if (--_windowsLeft == 0)
                {
                    _all.TrySetResult();
                }
            }
            else if (_keysLeft[windowStart] < 0)
            {
                _all.TrySetException(new InvalidOperationException($"Window {DateTimeOffset.FromUnixTimeMilliseconds(windowStart):O}, key {key}: reported twice"));
            }
        }

        public void Fail(Exception exception) => _all.TrySetException(exception);
    }

    private abstract class Engine(EmbeddedKafkaCluster kafka, Workload workload, int fetchWaitMs)
    {
        /// <summary>Live runs: events produced per second (0: as fast as the producer goes).</summary>
        public static int Rate { get; set; }

        /// <summary>Samples the types allocated from the first event produced to the last final window (live runs).</summary>
        public static AllocationTypes? Sampler { get; set; }

        public abstract string Name { get; }

        /// <summary>Its name for <c>--engines</c>.</summary>
        public abstract string Key { get; }

        protected EmbeddedKafkaCluster Kafka => kafka;

        protected Workload Workload => workload;

        protected int FetchWaitMs => fetchWaitMs;

        public abstract Task<Result> RunAsync(int round, bool live);

        /// <summary>The librdkafka consumer settings every engine's consumers get (the provider's, KafkaClientConfigs).</summary>
        protected void Tune(ConsumerConfig config)
        {
            config.BootstrapServers = kafka.BootstrapServers;
            config.QueuedMaxMessagesKbytes = 32 * 1024;
            config.QueuedMinMessages = 1_000_000;
            config.FetchWaitMaxMs = fetchWaitMs;
        }

        /// <summary>Writes the events, as fast as the producer goes; returns when each was produced (stopwatch ticks).</summary>
        protected long[] Produce(string topic)
        {
            // The process's CPU time and allocations from here to the last final window (live runs): the producer's and
            // the output reader's share is the same for every engine.
            _cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
            _allocatedAtStart = GC.GetTotalAllocatedBytes();
            if (Sampler is not null)
            {
                Sampler.Enabled = true;
            }

            var producedAt = new long[workload.Events.Count];
            using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
            {
                BootstrapServers = kafka.BootstrapServers,
                EnableIdempotence = true,
                LingerMs = 5,
            }).Build();
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < workload.Events.Count; i++)
            {
                if (Rate > 0 && i % 20 == 0)
                {
                    var due = TimeSpan.FromSeconds(i / (double)Rate);
                    while (watch.Elapsed < due)
                    {
                        Thread.Sleep(1);
                    }
                }

                var (message, partition) = workload.Events[i];
                BenchProducer.Send(producer, new TopicPartition(topic, partition), message);
                producedAt[i] = Stopwatch.GetTimestamp();
            }

            if (producer.Flush(TimeSpan.FromMinutes(2)) > 0)
            {
                throw new InvalidOperationException($"The bench's producer could not deliver every event to {topic}");
            }

            return producedAt;
        }

        /// <summary>Live: events/s from the first event produced to the last final window; each window's latency.</summary>
        protected Result Measure(long[] producedAt, FinalWindows finals)
        {
            if (Sampler is not null)
            {
                Sampler.Enabled = false;
            }

            return MeasureLive(producedAt, finals);
        }

        private Result MeasureLive(long[] producedAt, FinalWindows finals) => new(
            Workload.Events.Count / Stopwatch.GetElapsedTime(producedAt[0], finals.LastCompletedAt).TotalSeconds,
            finals.CompletedAt.OrderBy(w => w.Key).Select(w => Stopwatch.GetElapsedTime(producedAt[Workload.FinalAt[w.Key]], w.Value).TotalMilliseconds).ToList(),
            (Process.GetCurrentProcess().TotalProcessorTime - _cpuAtStart).TotalMicroseconds / Workload.Events.Count,
            (GC.GetTotalAllocatedBytes() - _allocatedAtStart) / (double)Workload.Events.Count);

        private TimeSpan _cpuAtStart;
        private long _allocatedAtStart;

        /// <summary>Backlog: events/s from the engine's first read to the last final window.</summary>
        protected Result Measure(long firstRead, FinalWindows finals)
        {
            if (Sampler is not null)
            {
                Sampler.Enabled = false; // live runs only: a backlog's production is not the engine's
            }

            return new(Workload.Events.Count / Stopwatch.GetElapsedTime(firstRead, finals.LastCompletedAt).TotalSeconds, []);
        }

        /// <summary>Reads an engine's output topic on a thread of its own, handing each record to <paramref name="report"/>.</summary>
        protected Task ReadOutput(string topic, FinalWindows finals, Action<ConsumeResult<string, byte[]>> report, CancellationToken cancellation) =>
            Task.Factory.StartNew(
                () =>
                {
                    var config = new ConsumerConfig { GroupId = topic, EnableAutoCommit = false };
                    Tune(config);
                    using var consumer = new ConsumerBuilder<string, byte[]>(config).Build();
                    consumer.Assign(Enumerable.Range(0, workload.Partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
                    try
                    {
                        while (!cancellation.IsCancellationRequested && !finals.All.IsCompleted)
                        {
                            if (consumer.Consume(TimeSpan.FromMilliseconds(20)) is { } result)
                            {
                                report(result);
                            }
                        }
                    }
                    catch (Exception ex)
                    {
                        finals.Fail(ex);
                    }
                },
                TaskCreationOptions.LongRunning);

        protected static async Task WaitAsync(FinalWindows finals, string what)
        {
            if (await Task.WhenAny(finals.All, Task.Delay(TimeSpan.FromMinutes(3))) != finals.All)
            {
                throw new TimeoutException($"{what}: not every window was final after 3 minutes");
            }

            await finals.All; // a wrong count throws here
        }
    }

    /// <summary>One Confluent.Kafka consumer, every partition, counting per key and window in a dictionary.</summary>
    private sealed class RawEngine(EmbeddedKafkaCluster kafka, Workload workload, int fetchWaitMs) : Engine(kafka, workload, fetchWaitMs)
    {
        public override string Name => "raw consumer, counting in a dictionary";

        public override string Key => "raw";

        public override async Task<Result> RunAsync(int round, bool live)
        {
            var topic = $"agg-raw-{round}-{(live ? "live" : "backlog")}";
            Kafka.CreateTopic(topic, Workload.Partitions);
            var finals = new FinalWindows(Workload);
            if (!live)
            {
                Produce(topic);
            }

            var firstRead = 0L;
            using var assigned = new ManualResetEventSlim();
            var reader = Task.Factory.StartNew(
                () =>
                {
                    var config = new ConsumerConfig { GroupId = topic, EnableAutoCommit = false };
                    Tune(config);
                    using var consumer = new ConsumerBuilder<string, byte[]>(config).Build();
                    consumer.Assign(Enumerable.Range(0, Workload.Partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
                    var counts = new Dictionary<(string Key, long Start), long>();
                    var watermarks = new long[Workload.Partitions];
                    Array.Fill(watermarks, long.MinValue);
                    var pending = new Queue<long>(Workload.Windows.Keys); // window starts, in order: the next to become final first
                    while (pending.Count > 0)
                    {
                        var result = consumer.Consume(TimeSpan.FromMilliseconds(20));
                        assigned.Set();
                        if (result is null)
                        {
                            continue;
                        }

                        if (firstRead == 0)
                        {
                            firstRead = Stopwatch.GetTimestamp();
                        }

                        var evt = StreamEventJson.Parse(result.Message.Value, result.Message.Key);
                        var ts = evt.Timestamp.ToUnixTimeMilliseconds();
                        var key = (evt.Entity, ts / WindowMs * WindowMs);
                        counts[key] = counts.GetValueOrDefault(key) + 1;
                        var partition = result.Partition.Value;
                        if (ts <= watermarks[partition])
                        {
                            continue;
                        }

                        watermarks[partition] = ts;
                        // Final: the lowest watermark has passed the window's end (no lateness allowed).
                        while (pending.Count > 0 && watermarks.Min() >= pending.Peek() + WindowMs)
                        {
                            var start = pending.Dequeue();
                            foreach (var ((k, s), count) in counts.Where(c => c.Key.Start == start).ToList())
                            {
                                finals.Report(k, s, count);
                                counts.Remove((k, s));
                            }
                        }
                    }
                },
                TaskCreationOptions.LongRunning);
            long[]? producedAt = null;
            if (live)
            {
                assigned.Wait();
                producedAt = Produce(topic);
            }

            await reader;
            await WaitAsync(finals, Name);
            return producedAt is null ? Measure(firstRead, finals) : Measure(producedAt, finals);
        }
    }

    /// <summary>Streamiz.Kafka.Net: the same count as a Kafka Streams topology, final results through Suppress.</summary>
    private sealed class StreamizEngine(EmbeddedKafkaCluster kafka, Workload workload, int fetchWaitMs, int threads) : Engine(kafka, workload, fetchWaitMs)
    {
        private static long s_firstRead;

        public override string Name => $"Streamiz.Kafka.Net 1.8.2 ({threads} stream thread{(threads == 1 ? string.Empty : "s")})";

        public override string Key => "streamiz";

        public override async Task<Result> RunAsync(int round, bool live)
        {
            var topic = $"agg-streamiz-{round}-{(live ? "live" : "backlog")}";
            var output = topic + "-out";
            Kafka.CreateTopic(topic, Workload.Partitions);
            Kafka.CreateTopic(output, Workload.Partitions);
            var finals = new FinalWindows(Workload);
            if (!live)
            {
                Produce(topic);
            }

            var builder = new StreamBuilder();
            builder.Stream<string, StreamEvent, StringSerDes, EventSerDes>(topic)
                .GroupByKey()
                .WindowedBy(TumblingWindowOptions.Of(TimeSpan.FromMilliseconds(WindowMs), TimeSpan.Zero))
                .Count(InMemoryWindows.As<string, long>("counts", TimeSpan.FromMilliseconds(WindowMs)).WithLoggingDisabled())
                .Suppress(SuppressedBuilder.UntilWindowClose<Windowed<string>, long>(TimeSpan.Zero, StrictBufferConfig.Unbounded().WithLoggingDisabled())
                    .WithKeySerdes(new TimeWindowedSerDes<string>(new StringSerDes(), WindowMs))
                    .WithValueSerdes(new Int64SerDes()))
                .ToStream()
                .Map((key, count, _) => KeyValuePair.Create(key.Key, $"{key.Window.StartMs}:{count}"))
                .To<StringSerDes, StringSerDes>(output);
            var config = new StreamConfig<StringSerDes, EventSerDes>
            {
                ApplicationId = topic,
                BootstrapServers = Kafka.BootstrapServers,
                AutoOffsetReset = AutoOffsetReset.Earliest,
                NumStreamThreads = threads,
                StateDir = Path.Combine(Path.GetTempPath(), "streamiz-bench", topic),
                DefaultTimestampExtractor = new EventTime(),
                QueuedMaxMessagesKbytes = 32 * 1024,
                QueuedMinMessages = 1_000_000,
                FetchWaitMaxMs = FetchWaitMs,
                SessionTimeoutMs = 6000,
                Logger = NullLoggerFactory.Instance,
            };
            s_firstRead = 0;
            using var stop = new CancellationTokenSource();
            var reading = ReadOutput(output, finals, result =>
            {
                var value = Encoding.UTF8.GetString(result.Message.Value);
                var colon = value.IndexOf(':', StringComparison.Ordinal);
                finals.Report(result.Message.Key, long.Parse(value.AsSpan(0, colon), CultureInfo.InvariantCulture), long.Parse(value.AsSpan(colon + 1), CultureInfo.InvariantCulture));
            }, stop.Token);
            var stream = new KafkaStream(builder.Build(), config);
            var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            stream.StateChanged += (_, state) =>
            {
                if (state == KafkaStream.State.RUNNING)
                {
                    running.TrySetResult();
                }
            };
            try
            {
                await stream.StartAsync();
                long[]? producedAt = null;
                if (live)
                {
                    await running.Task.WaitAsync(TimeSpan.FromMinutes(1)); // partitions assigned
                    producedAt = Produce(topic);
                }

                await WaitAsync(finals, Name);
                return producedAt is null ? Measure(Interlocked.Read(ref s_firstRead), finals) : Measure(producedAt, finals);
            }
            finally
            {
                stream.Dispose();
                await stop.CancelAsync();
                await reading;
            }
        }

        /// <summary>The event time is the event's <c>ts</c>, as for the other engines (it is also the record's timestamp).</summary>
        private sealed class EventTime : Streamiz.Kafka.Net.Processors.ITimestampExtractor
        {
            public long Extract(ConsumeResult<object, object> record, long partitionTime)
            {
                var now = Stopwatch.GetTimestamp();
                Interlocked.CompareExchange(ref s_firstRead, now, 0);
                return ((StreamEvent)record.Message.Value).Timestamp.ToUnixTimeMilliseconds();
            }
        }

        /// <summary>The platform's event contract, parsed as every other engine parses it.</summary>
        private sealed class EventSerDes : AbstractSerDes<StreamEvent>
        {
            public override StreamEvent Deserialize(byte[] data, SerializationContext context) => StreamEventJson.Parse(data);

            public override byte[] Serialize(StreamEvent data, SerializationContext context) => StreamEventJson.Serialize(data);
        }
    }

    /// <summary>The silo as the README runs it, in this process, with one aggregation and profiles off.</summary>
    private sealed class StreamGrainsEngine(EmbeddedKafkaCluster kafka, Workload workload, int fetchWaitMs, bool profiles) : Engine(kafka, workload, fetchWaitMs)
    {
        public override string Name => $"StreamGrains aggregation (Memory storage, profiles {(profiles ? "on, no rules" : "off")})";

        public override string Key => "streamgrains";

        public override async Task<Result> RunAsync(int round, bool live)
        {
            var topic = $"agg-sg-{round}-{(live ? "live" : "backlog")}";
            foreach (var name in new[] { topic, topic + ".dlq", topic + ".decisions", topic + ".aggregates", topic + ".sessions", topic + ".late" })
            {
                Kafka.CreateTopic(name, Workload.Partitions);
            }

            var finals = new FinalWindows(Workload);
            if (!live)
            {
                Produce(topic);
            }

            // Backlog: the clock starts when the provider's first read returns records, as in the provider benchmark.
            using var firstRead = new ProviderFirstRead();

            using var stop = new CancellationTokenSource();
            var reading = ReadOutput(topic + ".aggregates", finals, result =>
            {
                using var document = JsonDocument.Parse(result.Message.Value);
                var json = document.RootElement;
                finals.Report(json.GetProperty("key").GetString()!, json.GetProperty("windowStart").GetDateTimeOffset().ToUnixTimeMilliseconds(), json.GetProperty("count").GetInt64());
            }, stop.Token);
            var ports = Enumerable.Range(0, 3).Select(_ => ClusterBenchmark.FreePort()).ToArray();
            var app = StreamGrainsSilo.Build([
                "--kafka", Kafka.BootstrapServers,
                "--demo", "false",
                "--storage", "memory",
                "--urls", $"http://127.0.0.1:{ports[0]}",
                "--silo-port", ports[1].ToString(CultureInfo.InvariantCulture),
                "--gateway-port", ports[2].ToString(CultureInfo.InvariantCulture),
                "--partitions", Workload.Partitions.ToString(CultureInfo.InvariantCulture),
                "--StreamGrains:Kafka:InputTopic", topic,
                "--StreamGrains:Kafka:DecisionsTopic", topic + ".decisions",
                "--StreamGrains:Kafka:EnrichedTopic", string.Empty,
                "--StreamGrains:Kafka:AggregatesTopic", topic + ".aggregates",
                "--StreamGrains:Kafka:SessionsTopic", topic + ".sessions",
                "--StreamGrains:Kafka:LateTopic", topic + ".late",
                "--StreamGrains:Kafka:ConsumerGroup", topic,
                "--StreamGrains:Kafka:Properties:fetch.wait.max.ms", FetchWaitMs.ToString(CultureInfo.InvariantCulture),
                "--StreamGrains:Profiles:Enabled", profiles ? "true" : "false",
                "--StreamGrains:Aggregations:bench:Window:Kind", "Tumbling",
                "--StreamGrains:Aggregations:bench:Window:Size", TimeSpan.FromMilliseconds(WindowMs).ToString("c", CultureInfo.InvariantCulture),
                "--Logging:LogLevel:Default", "Error",
            ],
            // This assembly's counting grain (the provider benchmark's consumer) would subscribe to every entity's stream.
            silo => silo.Services.Configure<Orleans.Configuration.GrainTypeOptions>(types => types.Classes.Remove(typeof(CountingGrain))));
            try
            {
                await app.StartAsync();
                long[]? producedAt = null;
                if (live)
                {
                    // Every partition has a reader before the first event is produced.
                    var registry = app.Services.GetRequiredService<KafkaAdapterFactoryRegistry>();
                    while (registry.Get(StreamNames.Provider)?.Partitions.Count(p => p.Owner is not null) != Workload.Partitions)
                    {
                        await Task.Delay(10);
                    }

                    producedAt = Produce(topic);
                }

                await WaitAsync(finals, Name);
                return producedAt is null ? Measure(firstRead.Timestamp, finals) : Measure(producedAt, finals);
            }
            finally
            {
                await stop.CancelAsync();
                await reading;
                await app.StopAsync();
                await app.DisposeAsync();
            }
        }
    }
}
