using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using StreamGrains.Events;

namespace StreamGrains.Benchmarks;

/// <summary>
/// Profiles and decisions through a silo process on the standalone embedded broker (8 partitions, Memory storage, no
/// demo), one rule that fires on about a tenth of the events (Threshold, value above 900 of 0 to 1,000):
///  - latency: events produced live at a steady rate to warm profiles (one event per entity first); each decision's
///    latency is its record's Kafka timestamp minus the timestamp of the event record it is about (both CreateTime,
///    set by producers on this machine: the same clock, millisecond resolution), p50, p99 and p99.9;
///  - throughput: events produced as fast as the producer goes while the silo consumes; the clock runs from the first
///    event produced to the silo's eventsProcessed (from /api/stats) reaching them all;
///  - memory: the silo's resident set before and after activating N profiles (one event each), per profile.
///   dotnet build -c Release src/Silo &amp;&amp; dotnet build -c Release src/KafkaBroker
///   dotnet run -c Release --project bench/StreamGrains.Benchmarks -- --decisions [--rates 2000,10000,20000] [--seconds 15] [--entities 10000] [--throughput 300000] [--memory 100000,1000000] [--fetch-wait-ms 5]
/// </summary>
internal static class DecisionBenchmark
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public static async Task<int> RunAsync(string[] args)
    {
        var rates = ClusterBenchmark.Value(args, "--rates", "2000,10000,20000").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(r => int.Parse(r, CultureInfo.InvariantCulture)).ToList();
        var seconds = int.Parse(ClusterBenchmark.Value(args, "--seconds", "15"), CultureInfo.InvariantCulture);
        var entities = int.Parse(ClusterBenchmark.Value(args, "--entities", "10000"), CultureInfo.InvariantCulture);
        var throughput = int.Parse(ClusterBenchmark.Value(args, "--throughput", "300000"), CultureInfo.InvariantCulture);
        var memory = ClusterBenchmark.Value(args, "--memory", "100000,1000000").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(r => int.Parse(r, CultureInfo.InvariantCulture)).ToList();
        // librdkafka's mock cluster answers a fetch only when fetch.wait.max.ms is over (a real broker answers when a
        // record arrives): the silo sets 50 ms for its in-process broker; for the standalone one the wait is ours to set.
        var fetchWait = ClusterBenchmark.Value(args, "--fetch-wait-ms", "5");
        Setup.Extra = ["--StreamGrains:Kafka:Properties:fetch.wait.max.ms", fetchWait, .. ExtraSiloArguments(args)];
        Series = args.Contains("--series");
        GcDump = args.Contains("--gcdump");
        var root = ClusterBenchmark.FindRoot();
        var siloDll = Path.Combine(root, "src/Silo/bin/Release/net10.0/StreamGrains.Silo.dll");
        var brokerDll = Path.Combine(root, "src/KafkaBroker/bin/Release/net10.0/StreamGrains.KafkaBroker.dll");
        if (!File.Exists(siloDll) || !File.Exists(brokerDll))
        {
            Console.Error.WriteLine("Build the silo and the broker first: dotnet build -c Release src/Silo && dotnet build -c Release src/KafkaBroker");
            return 2;
        }

        Console.WriteLine($"# Decisions: one silo process, 8 partitions, {entities:N0} entities, rule 'value > 900' (~10 % of events), fetch.wait.max.ms {fetchWait}; {Environment.ProcessorCount} cores");
        foreach (var rate in rates)
        {
            await using var setup = await Setup.StartAsync(siloDll, brokerDll);
            await Warm(setup, entities);
            var (latencies, expected) = await MeasureLatencyAsync(setup, rate, seconds, entities);
            latencies.Sort();
            Console.WriteLine($"| {rate:N0} events/s live, {seconds} s | {latencies.Count:N0} of {expected:N0} decisions | p50 {Pick(latencies, 0.5)} ms | p99 {Pick(latencies, 0.99)} ms | p99.9 {Pick(latencies, 0.999)} ms | max {latencies[^1]} ms |");
        }

        foreach (var enrichedOff in throughput > 0 ? new[] { false, true } : [])
        {
            await using var setup = await Setup.StartAsync(siloDll, brokerDll, enrichedOff ? ["--StreamGrains:Kafka:EnrichedTopic", ""] : []);
            await Warm(setup, entities);
            var processedBefore = await ProcessedAsync(setup.Url);
        if (Series)
        {
            Console.WriteLine($"#   production begins at {DateTime.UtcNow:HH:mm:ss.fff} UTC");
        }

            var watch = Stopwatch.StartNew();
            var producing = Task.Run(() => Produce(setup.Bootstrap, throughput, entities, rate: 0, seed: 2, onDelivered: null));
            while (await ProcessedAsync(setup.Url) - processedBefore < throughput)
            {
                ThrowIfFailed(producing);
                await Task.Delay(50);
            }

            await producing;
            Console.WriteLine($"| throughput, events.enriched {(enrichedOff ? "off" : "on")} | {throughput:N0} events on {entities:N0} warm profiles, produced live as fast as possible | {throughput / watch.Elapsed.TotalSeconds:N0} events/s |");
        }

        foreach (var count in memory)
        {
            await using var setup = await Setup.StartAsync(siloDll, brokerDll, "--StreamGrains:Kafka:EnrichedTopic", "");
            await Warm(setup, 100); // the silo's own machinery warmed, a hundred profiles active
            await Task.Delay(TimeSpan.FromSeconds(5));
            var heapBefore = GcDump ? await LiveHeapAsync(setup, top: 0) : null;
            var before = ResidentBytes(setup.Silo);
            var processedBefore = await ProcessedAsync(setup.Url);
        if (Series)
        {
            Console.WriteLine($"#   production begins at {DateTime.UtcNow:HH:mm:ss.fff} UTC");
        }

            // The embedded broker keeps at most 5 MiB a partition (about 35,000 of these records): a producer further
            // ahead of the silo than that has its oldest records dropped before the silo reads them (the silo's
            // consumer then resets to the new start, and the run waits forever for events that are gone). Activating
            // a profile is slower than producing an event, so the producer stays at most 100,000 events ahead.
            long processed = 0;
            var producing = Task.Run(() => Produce(setup.Bootstrap, count, count, rate: 40_000, seed: 3, onDelivered: null, names: Names.Fresh, mayProduce: i => i - Volatile.Read(ref processed) < 100_000));
            while ((processed = await ProcessedAsync(setup.Url) - processedBefore) < count)
            {
                ThrowIfFailed(producing);
                await Task.Delay(200);
            }

            await producing;
            await Task.Delay(TimeSpan.FromSeconds(10)); // garbage of the run collected
            var after = ResidentBytes(setup.Silo);
            var active = (await StatsAsync(setup.Url)).GetProperty("activeProfiles").GetInt64();
            Console.WriteLine($"| memory | {count:N0} entities, {active:N0} profiles active | resident {before / 1048576.0:N0} MiB before, {after / 1048576.0:N0} MiB after | {(after - before) / (double)count:N0} bytes per profile |");
            if (heapBefore is { } heap0 && await LiveHeapAsync(setup, top: 40) is { } heap1)
            {
                Console.WriteLine($"| memory, live managed heap after a full collection | {count:N0} entities | {heap0 / 1048576.0:N0} MiB before, {heap1 / 1048576.0:N0} MiB after | {(heap1 - heap0) / (double)count:N0} bytes per profile |");
            }
        }

        return 0;
    }

    private static bool Series { get; set; }

    /// <summary>A producer that failed fails the run, rather than leave it waiting for events that will never come.</summary>
    private static void ThrowIfFailed(Task producing)
    {
        if (producing.IsFaulted)
        {
            producing.GetAwaiter().GetResult();
        }
    }

    /// <summary>Which entities the produced events are about.</summary>
    private enum Names
    {
        /// <summary>One of <c>e-0</c> to <c>e-(entities-1)</c> at random: the measured traffic.</summary>
        Random,

        /// <summary>Each of <c>e-0</c> to <c>e-(entities-1)</c> in turn: warms the profiles the measured traffic uses.</summary>
        Each,

        /// <summary>A new entity for every event: activates new profiles.</summary>
        Fresh,
    }

    private static async Task<List<(double Seconds, long Processed)>> SampleProcessedAsync(string url, long before, long total, CancellationToken stop)
    {
        var samples = new List<(double, long)>();
        var watch = Stopwatch.StartNew();
        while (!stop.IsCancellationRequested)
        {
            var processed = await ProcessedAsync(url) - before;
            samples.Add((watch.Elapsed.TotalSeconds, processed));
            if (processed >= total)
            {
                break;
            }

            await Task.Delay(250, CancellationToken.None);
        }

        return samples;
    }

    private static bool GcDump { get; set; }

    private static long? Number(string text) =>
        long.TryParse(text.Replace(",", string.Empty, StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    /// <summary>
    /// The silo's live managed heap after a full, blocking collection: <c>dotnet-gcdump</c> (a dotnet tool; absent: null)
    /// makes the collection, then the silo's own runtime metrics give the heap it left (the generations' sizes after the
    /// last collection less their fragmentation). The dump's table of the <paramref name="top"/> types by size is printed
    /// as a breakdown; past a few hundred MiB the tool samples the heap, so its table shows proportions, not totals.
    /// </summary>
    private static async Task<long?> LiveHeapAsync(Setup setup, int top)
    {
        var silo = setup.Silo;
        var tool = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools", "dotnet-gcdump");
        if (!File.Exists(tool))
        {
            Console.WriteLine("# dotnet-gcdump is not installed (dotnet tool install -g dotnet-gcdump): no live-heap figure");
            return null;
        }

        var file = Path.Combine(Path.GetTempPath(), $"sg-bench-{silo.Id}-{Guid.NewGuid():N}.gcdump");
        try
        {
            await RunToolAsync(tool, $"collect -p {silo.Id} -o {file}");
            var report = await RunToolAsync(tool, $"report {file}");
            // "<bytes>  GC Heap bytes" first, then "<bytes> <count> <type> [<assembly>]" by size, largest first.
            long total = 0;
            var lines = report.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            // The report buckets each type by object size, with an object's size and the bucket's count; summed over
            // the buckets (size times count), the types that hold the most.
            // Other lines (the tool's own messages, e.g. that it sampled a large heap) are shown as they are.
            foreach (var message in lines.Where(l => !char.IsAsciiDigit(l[0])))
            {
                Console.WriteLine($"#   dotnet-gcdump: {message}");
            }

            var types = lines
                .Where(l => l.EndsWith(']'))
                .Select(l => l.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries))
                .Where(p => p.Length == 3 && Number(p[0]) is not null && Number(p[1]) is not null)
                .Select(p => (Size: Number(p[0])!.Value, Count: Number(p[1])!.Value,
                    Type: System.Text.RegularExpressions.Regex.Replace(p[2], @"\s*\(Bytes > [^)]*\)", string.Empty)))
                .GroupBy(t => t.Type)
                .Select(g => (Type: g.Key, Bytes: g.Sum(t => t.Size * t.Count), Count: g.Sum(t => t.Count)))
                .OrderByDescending(t => t.Bytes)
                .Take(top);
            foreach (var (type, bytes, count) in types)
            {
                Console.WriteLine($"#   {bytes,14:N0} bytes {count,10:N0} objects  {type}");
            }

            if (lines.FirstOrDefault(l => l.EndsWith("GC Heap bytes", StringComparison.Ordinal)) is { } heapLine)
            {
                Console.WriteLine($"#   dotnet-gcdump's heap total (sampled when large): {Number(heapLine.Split(' ', 2)[0]) ?? 0:N0} bytes");
            }

            var metrics = await Http.GetStringAsync(new Uri($"{setup.Url}/metrics"));
            double Sum(string name) => metrics.Split('\n')
                .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal))
                .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
            total = (long)(Sum("dotnet_gc_last_collection_heap_size_bytes") - Sum("dotnet_gc_last_collection_heap_fragmentation_size_bytes"));
            return total;
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task<string> RunToolAsync(string tool, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(tool, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output;
    }

    /// <summary>Whatever follows <c>--silo</c> on the command line goes to the silo as it is.</summary>
    private static string[] ExtraSiloArguments(string[] args) => args.SkipWhile(a => a != "--silo").Skip(1).ToArray();

    private static string Pick(List<long> sorted, double q) => sorted.Count == 0 ? "-" : sorted[(int)Math.Floor(q * (sorted.Count - 1))].ToString(CultureInfo.InvariantCulture);

    private static async Task Warm(Setup setup, int entities)
    {
        var before = await ProcessedAsync(setup.Url);
        // One event for each entity the measurements then use, so that every one of their profiles is active.
        Produce(setup.Bootstrap, entities, entities, rate: 20_000, seed: 1, onDelivered: null, names: Names.Each);
        while (await ProcessedAsync(setup.Url) - before < entities)
        {
            await Task.Delay(100);
        }
    }

    private static async Task<(List<long> Latencies, int Expected)> MeasureLatencyAsync(Setup setup, int rate, int seconds, int entities)
    {
        var sent = new ConcurrentDictionary<(int Partition, long Offset), long>();
        var acked = new ConcurrentDictionary<(int Partition, long Offset), long>();
        var decisions = new ConcurrentBag<(int Partition, long Offset, long Timestamp)>();
        using var stop = new CancellationTokenSource();
        var consuming = Task.Run(() => ConsumeDecisions(setup.Bootstrap, decisions, stop.Token));
        await Task.Delay(TimeSpan.FromSeconds(2)); // the decision consumer is assigned and at the end
        var processedBefore = await ProcessedAsync(setup.Url);
        if (Series)
        {
            Console.WriteLine($"#   production begins at {DateTime.UtcNow:HH:mm:ss.fff} UTC");
        }

        var timeline = Series ? Task.Run(() => SampleProcessedAsync(setup.Url, processedBefore, rate * seconds, stop.Token)) : Task.FromResult(new List<(double, long)>());
        var expected = Produce(setup.Bootstrap, rate * seconds, entities, rate, seed: 5, onDelivered: (partition, offset, timestamp) =>
        {
            sent[(partition, offset)] = timestamp;
            acked[(partition, offset)] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        });
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (decisions.Count < expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        await stop.CancelAsync();
        await consuming;
        if (Series)
        {
            Console.WriteLine("#   events processed by the silo since production began: " + string.Join(", ", (await timeline).Select(t => $"{t.Item1:F1} s {t.Item2:N0}")));
        }
        var matched = decisions
            .Where(d => sent.ContainsKey((d.Partition, d.Offset)))
            .Select(d => (Sent: sent[(d.Partition, d.Offset)], Latency: d.Timestamp - sent[(d.Partition, d.Offset)], Ack: acked[(d.Partition, d.Offset)] - sent[(d.Partition, d.Offset)]))
            .ToList();
        if (Series && matched.Count > 0)
        {
            // Latency by second of production: a steady queue and periodic stalls look different here.
            var first = matched.Min(m => m.Sent);
            foreach (var second in matched.GroupBy(m => (m.Sent - first) / 1000).OrderBy(g => g.Key))
            {
                var sorted = second.Select(m => m.Latency).Order().ToList();
                var acks = second.Select(m => m.Ack).Order().ToList();
                Console.WriteLine($"#   second {second.Key,2}: {sorted.Count,5} decisions, p50 {Pick(sorted, 0.5),5} ms, p99 {Pick(sorted, 0.99),5} ms, max {sorted[^1],5} ms; the event's produce acknowledged after p50 {Pick(acks, 0.5),5} ms, p99 {Pick(acks, 0.99),5} ms");
            }
        }

        return (matched.Select(m => m.Latency).ToList(), expected);
    }

    private static void ConsumeDecisions(string bootstrap, ConcurrentBag<(int, long, long)> decisions, CancellationToken stop)
    {
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "bench-decisions", FetchWaitMaxMs = 10, EnableAutoCommit = false }).Build();
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build())
        {
            var partitions = admin.GetMetadata("decisions", TimeSpan.FromSeconds(10)).Topics[0].Partitions;
            consumer.Assign(partitions.Select(p => new TopicPartitionOffset("decisions", p.PartitionId, Offset.End)));
        }

        while (!stop.IsCancellationRequested)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { Message: { } message } &&
                message.Headers.TryGetLastBytes("sg-source-partition", out var p) && message.Headers.TryGetLastBytes("sg-source-offset", out var o))
            {
                decisions.Add((int.Parse(Encoding.ASCII.GetString(p), CultureInfo.InvariantCulture), long.Parse(Encoding.ASCII.GetString(o), CultureInfo.InvariantCulture), message.Timestamp.UnixTimestampMs));
            }
        }
    }

    /// <summary>Produces <paramref name="count"/> payments at <paramref name="rate"/> a second (0: as fast as it goes); returns how many are above 900.</summary>
    private static int Produce(string bootstrap, int count, int entities, int rate, int seed, Action<int, long, long>? onDelivered, Names names = Names.Random, Func<int, bool>? mayProduce = null)
    {
        var random = new Random(seed);
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            Partitioner = Confluent.Kafka.Partitioner.Murmur2Random,
            LingerMs = rate == 0 ? 5 : 1,
            EnableIdempotence = true,
        }).Build();
        // Connected, with its producer id, before the clock starts: the first second measures the silo, not our start-up.
        producer.Produce("bench-warmup", new Message<string, byte[]> { Key = "warm-up", Value = [] });
        producer.Flush(TimeSpan.FromSeconds(30));
        var above = 0;
        var failed = 0;
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            if (rate > 0 && i % 20 == 0)
            {
                var due = TimeSpan.FromSeconds(i / (double)rate);
                while (watch.Elapsed < due)
                {
                    Thread.Sleep(1);
                }
            }

            while (mayProduce is not null && !mayProduce(i))
            {
                Thread.Sleep(10);
            }

            var value = random.Next(1000);
            above += value > 900 ? 1 : 0;
            var evt = new StreamEvent
            {
                Id = $"b{seed}-{i}",
                Entity = names switch
                {
                    Names.Each => $"e-{i % entities}",
                    Names.Fresh => $"e-{seed}-{i}",
                    _ => $"e-{random.Next(entities)}",
                },
                Type = "payment",
                Timestamp = DateTimeOffset.UtcNow,
                Value = value,
                Attributes = new Dictionary<string, AttributeValue> { ["country"] = "NL", ["merchant"] = $"m-{random.Next(500)}" },
            };
            // The record's CreateTime, set here and remembered with the offset its delivery report gives.
            var createdMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var message = new Message<string, byte[]> { Key = evt.Entity, Value = StreamEventJson.Serialize(evt), Timestamp = new Timestamp(createdMs, TimestampType.CreateTime) };
            Action<DeliveryReport<string, byte[]>> handler = report =>
            {
                if (report.Error.IsError)
                {
                    Interlocked.Increment(ref failed);
                }
                else
                {
                    onDelivered?.Invoke(report.Partition.Value, report.Offset.Value, createdMs);
                }
            };
            while (true)
            {
                try
                {
                    producer.Produce("events", message, handler);
                    break;
                }
                catch (ProduceException<string, byte[]> ex) when (ex.Error.Code == Confluent.Kafka.ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(5));
                }
            }
        }

        // Every event delivered, however long the silo keeps the cores busy; an event lost here would make a run wait forever.
        var undelivered = producer.Flush(TimeSpan.FromMinutes(10));
        if (undelivered > 0 || failed > 0)
        {
            throw new InvalidOperationException($"The bench's producer could not deliver {undelivered + failed} of {count} events");
        }

        return above;
    }

    private static async Task<long> ProcessedAsync(string url) => (await StatsAsync(url)).GetProperty("eventsProcessed").GetInt64();

    private static async Task<JsonElement> StatsAsync(string url) =>
        JsonDocument.Parse(await Http.GetStringAsync(new Uri($"{url}/api/stats"))).RootElement.GetProperty("silo");

    private static long ResidentBytes(Process process)
    {
        process.Refresh();
        return process.WorkingSet64;
    }

    private sealed class Setup : IAsyncDisposable
    {
        private Process _broker = null!;

        public Process Silo { get; private set; } = null!;

        public string Url { get; private set; } = string.Empty;

        public string Bootstrap { get; private set; } = string.Empty;

        public static string[] Extra { get; set; } = [];

        public static async Task<Setup> StartAsync(string siloDll, string brokerDll, params string[] extra)
        {
            var setup = new Setup();
            var bootstrapFile = Path.GetTempFileName();
            File.Delete(bootstrapFile);
            setup._broker = ClusterBenchmark.Start(brokerDll, ["--partitions", "8", "--bootstrap-file", bootstrapFile]);
            while (!File.Exists(bootstrapFile) || new FileInfo(bootstrapFile).Length == 0)
            {
                await Task.Delay(50);
            }

            setup.Bootstrap = await File.ReadAllTextAsync(bootstrapFile);
            var (http, siloPort, gateway) = (ClusterBenchmark.FreePort(), ClusterBenchmark.FreePort(), ClusterBenchmark.FreePort());
            setup.Url = $"http://127.0.0.1:{http}";
            setup.Silo = ClusterBenchmark.Start(siloDll, [
                "--kafka", setup.Bootstrap, "--demo", "false", "--urls", setup.Url, "--silo-port", $"{siloPort}", "--gateway-port", $"{gateway}",
                "--StreamGrains:Rules:big:Kind", "Threshold", "--StreamGrains:Rules:big:Above", "900", .. Extra, .. extra]);
            while (!await ClusterBenchmark.ReadyAsync(setup.Url))
            {
                if (setup.Silo.HasExited)
                {
                    throw new InvalidOperationException($"The silo exited with code {setup.Silo.ExitCode} before it was ready (a broker without the platform's topics? build src/KafkaBroker again)");
                }

                await Task.Delay(200);
            }

            await Task.Delay(TimeSpan.FromSeconds(2));
            return setup;
        }

        public ValueTask DisposeAsync()
        {
            Silo.Kill(entireProcessTree: true);
            _broker.Kill(entireProcessTree: true);
            Silo.Dispose();
            _broker.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
