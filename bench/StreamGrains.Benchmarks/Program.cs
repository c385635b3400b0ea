using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Hosting;
using Orleans.Streams;
using OpenTelemetry.Trace;
using StreamGrains.Benchmarks;
using StreamGrains.Events;
using StreamGrains.Hosting;
using StreamGrains.Kafka.Embedded;
using StreamGrains.Kafka.Hosting;
using StreamGrains.Silo.Kafka;

// Provider throughput: events per second through the Kafka stream provider into a trivial counting grain, against raw
// Confluent.Kafka consumers on the same embedded broker, with the same data, in the same run. Two modes, each engine in
// a fresh topic (the embedded broker keeps ~5 MiB per partition: keep records x ~200 bytes under that):
//  - backlog: the events are written first; each engine's clock starts when it reads its first record (for the
//    provider: when its receivers' first read returns, before any grain sees an event) and stops at its last event;
//  - live: each engine is started and reading first, then the events are produced as fast as the producer goes while
//    the engine consumes; the clock runs from the first event produced to the last one consumed (the same clock for
//    every engine). At 10,000 entities a live poll finds about one event per entity, so grain calls are not packed
//    as they are in a backlog.
// The provider's time includes activating a grain and registering a stream per entity, which weighs less the more
// events each entity has (compare --entities 1000 with 10000).
//   dotnet run -c Release --project bench/StreamGrains.Benchmarks -- [--records N] [--entities K] [--partitions P] [--rounds R] [--mode backlog|live|both]

var records = Arg("--records", 300_000);
var entities = Arg("--entities", 10_000);
var partitions = Arg("--partitions", 16);
var rounds = Arg("--rounds", 3);
var traceRatio = new StreamGrains.Silo.Configuration.TelemetrySettings().TraceSampleRatio;
var maxBatch = Arg("--max-batch", new StreamGrains.Kafka.KafkaStreamOptions().MaxBatchSize);
var cacheRecords = Arg("--cache", new StreamGrains.Kafka.KafkaQueueCacheOptions().MaxRecords);
var modeArg = Array.IndexOf(args, "--mode") is var m and >= 0 && m + 1 < args.Length ? args[m + 1] : "both";
var modes = modeArg == "both" ? new[] { false, true } : new[] { modeArg == "live" };

var payloads = MakePayloads(records, entities);

// Warm the parser up first (tiered JIT), so that no consumer pays for it in its timed run.
for (var pass = 0; pass < (args.Contains("--parse-only") ? 5 : 3); pass++)
{
    var parseWatch = Stopwatch.StartNew();
    foreach (var payload in payloads)
    {
        _ = StreamEventJson.Parse(payload.Value, payload.Key);
    }

    if (args.Contains("--parse-only"))
    {
        Console.WriteLine($"contract parsing alone: {records / parseWatch.Elapsed.TotalSeconds:N0} events/s");
    }
}

if (args.Contains("--parse-only"))
{
    return 0;
}

if (args.Contains("--archive"))
{
    return await ArchiveBenchmark.RunAsync(args);
}

if (args.Contains("--aggregations"))
{
    return await AggregationBenchmark.RunAsync(args);
}

if (args.Contains("--decisions"))
{
    return await DecisionBenchmark.RunAsync(args);
}

if (args.Contains("--sdk"))
{
    return await SdkBenchmark.RunAsync(args);
}

if (args.Contains("--cluster"))
{
    return await ClusterBenchmark.RunAsync(args);
}

using var kafka = EmbeddedKafkaCluster.Start();
if (args.Contains("--first-event"))
{
    // The latency of the first event after a quiet spell, from the producer's send to the grain, with reads that wait
    // for data (the default) and with reads that return at once (the pulling agent polls every period).
    foreach (var wait in new[] { TimeSpan.Zero, new StreamGrains.Kafka.KafkaStreamOptions().ReadWaitTime })
    {
        var latencies = await FirstEventLatenciesAsync(wait, samples: Arg("--samples", 40));
        Console.WriteLine($"read wait {wait.TotalMilliseconds} ms: first event after a quiet spell p50 {latencies[latencies.Count / 2]:F1} ms, p90 {latencies[latencies.Count * 9 / 10]:F1} ms, max {latencies[^1]:F1} ms");
    }

    return 0;
}

Console.WriteLine($"# Kafka stream provider benchmark: {records:N0} events on {entities:N0} entities, {partitions} partitions, {Environment.ProcessorCount} cores, {rounds} rounds");
Console.WriteLine($"# provider: max batch {maxBatch} records per read, cache {cacheRecords} records per partition");
Console.WriteLine($"# event size: {payloads.Average(p => p.Value.Length):F0} bytes of JSON; librdkafka {Library.VersionString}; .NET {Environment.Version}");

var results = new List<(string Name, double EventsPerSecond)>();
for (var round = 0; round <= rounds; round++)
{
    if (round == 0)
    {
        // A warm-up round, not recorded: the first consumer of a process is much slower (JIT, librdkafka, thread pool).
        Console.WriteLine("round 0 is a warm-up and is not recorded");
    }

    foreach (var live in modes)
    {
        var mode = live ? "live" : "backlog";
        var roundResults = new List<(string, double)>();
        if (live)
        {
            roundResults.Add(("live: the producer alone (no consumer)", await ProducerAloneAsync(round)));
        }
        else
        {
            roundResults.Add(($"{mode}: 1 raw consumer", await RawConsumerAsync(round, parse: false, consumers: 1, live)));
        }

        roundResults.Add(($"{mode}: 1 raw consumer + contract parsing", await RawConsumerAsync(round, parse: true, consumers: 1, live)));
        roundResults.Add(($"{mode}: {partitions} raw consumers + contract parsing", await RawConsumerAsync(round, parse: true, consumers: partitions, live)));
        roundResults.Add(($"{mode}: provider -> counting grain, implicit-only pub-sub", await ProviderAsync(round, implicitOnly: true, live)));
        roundResults.Add(($"{mode}: provider -> counting grain, implicit-only pub-sub, tracing at {traceRatio:P1} sampling", await ProviderAsync(round, implicitOnly: true, live, traceRatio)));
        roundResults.Add(($"{mode}: provider -> counting grain, explicit+implicit pub-sub", await ProviderAsync(round, implicitOnly: false, live)));
        if (round > 0)
        {
            results.AddRange(roundResults);
        }
    }
}

Console.WriteLine();
Console.WriteLine("| consumer | events/s (median) | runs |");
Console.WriteLine("|---|---|---|");
foreach (var group in results.GroupBy(r => r.Name))
{
    var values = group.Select(r => r.EventsPerSecond).Order().ToList();
    Console.WriteLine($"| {group.Key} | {values[values.Count / 2]:N0} | {string.Join(", ", values.Select(v => v.ToString("N0", CultureInfo.InvariantCulture)))} |");
}

Console.WriteLine();
foreach (var mode in modes.Select(live => live ? "live" : "backlog"))
{
    var single = Median($"{mode}: 1 raw consumer + contract parsing");
    var parallel = Median($"{mode}: {partitions} raw consumers + contract parsing");
    var untraced = Median($"{mode}: provider -> counting grain, implicit-only pub-sub");
    var traced = Median($"{mode}: provider -> counting grain, implicit-only pub-sub, tracing at {traceRatio:P1} sampling");
    Console.WriteLine($"{mode}: tracing at the default {traceRatio:P1} sampling costs {1 - (traced / untraced):P1} of the provider's throughput (medians)");
    foreach (var pubsub in new[] { "implicit-only", "explicit+implicit" })
    {
        var provider = Median($"{mode}: provider -> counting grain, {pubsub} pub-sub");
        Console.WriteLine($"{mode}: provider ({pubsub} pub-sub) / 1 raw consumer with parsing: {provider / single:P0}; / {partitions} raw consumers with parsing: {provider / parallel:P0}");
    }
}

return 0;

double Median(string name)
{
    var values = results.Where(r => r.Name == name).Select(r => r.EventsPerSecond).Order().ToList();
    return values[values.Count / 2];
}

async Task<double> RawConsumerAsync(int round, bool parse, int consumers, bool live)
{
    var topic = $"raw-{round}-{(live ? "live" : "backlog")}-{(parse ? "parsed" : "plain")}-{consumers}";
    kafka.CreateTopic(topic, partitions);
    if (!live)
    {
        await ProduceAsync(topic);
    }

    // One consumer for every partition, or one per partition on threads of its own (the provider's shape).
    var assignments = Enumerable.Range(0, partitions).GroupBy(p => p % consumers).Select(g => g.ToList()).ToList();
    var total = 0;
    var started = 0L;
    using var ready = new CountdownEvent(assignments.Count);
    var readers = assignments.Select(assigned => Task.Factory.StartNew(
        () =>
        {
            using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
            {
                BootstrapServers = kafka.BootstrapServers,
                GroupId = topic,
                EnableAutoCommit = false,
                // The provider's librdkafka settings (KafkaClientConfigs.Consumer), so the ceiling is the best a consumer does.
                QueuedMaxMessagesKbytes = 32 * 1024,
                QueuedMinMessages = 1_000_000,
                FetchWaitMaxMs = 50,
            }).Build();
            consumer.Assign(assigned.Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
            var signalled = false;
            while (Volatile.Read(ref total) < records)
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(20));
                if (!signalled)
                {
                    signalled = true;
                    ready.Signal(); // assigned and fetching
                }

                if (result is null)
                {
                    continue;
                }

                Interlocked.CompareExchange(ref started, Stopwatch.GetTimestamp(), 0); // backlog: from the first event on
                if (parse)
                {
                    _ = StreamEventJson.Parse(result.Message.Value, result.Message.Key);
                }

                Interlocked.Increment(ref total);
            }
        },
        TaskCreationOptions.LongRunning)).ToList();
    if (live)
    {
        ready.Wait();
        started = Stopwatch.GetTimestamp(); // live: from the first event produced on
        await ProduceAsync(topic);
    }

    await Task.WhenAll(readers);
    var rate = records / Stopwatch.GetElapsedTime(started).TotalSeconds;
    Console.WriteLine($"round {round}, {(live ? "live" : "backlog")}: {consumers} raw consumer(s){(parse ? " + parsing" : string.Empty)}: {rate:N0} events/s");
    return rate;
}

async Task<double> ProducerAloneAsync(int round)
{
    // What the live runs' producer manages with nothing consuming: the most any engine can show live.
    var topic = $"producer-{round}";
    kafka.CreateTopic(topic, partitions);
    var watch = Stopwatch.StartNew();
    await ProduceAsync(topic);
    var rate = records / watch.Elapsed.TotalSeconds;
    Console.WriteLine($"round {round}, live: the producer alone: {rate:N0} events/s");
    return rate;
}

async Task<double> ProviderAsync(int round, bool implicitOnly, bool live, double? tracing = null)
{
    var topic = $"provider-{round}-{(live ? "live" : "backlog")}-{(implicitOnly ? "implicit" : "explicit")}{(tracing is null ? string.Empty : "-traced")}";

    // Tracing as the silo sets it up: parent-based ratio sampling on the provider's source; spans go to an exporter
    // that drops them, so that only the cost of making them is measured.
    using var tracer = tracing is { } ratio
        ? OpenTelemetry.Sdk.CreateTracerProviderBuilder()
            .AddSource(StreamGrains.Kafka.Tracing.KafkaTracing.ActivitySourceName)
            .SetSampler(new StreamGrains.Silo.Hosting.StreamGrainsSampler(ratio))
            .AddProcessor(new OpenTelemetry.BatchActivityExportProcessor(new DroppingExporter()))
            .Build()
        : null;
    kafka.CreateTopic(topic, partitions);
    kafka.CreateTopic(topic + ".dlq", partitions);
    CountingGrain.Reset();

    // Backlog: the clock starts when the receivers' first read returns records (the provider's "records consumed"
    // counter), before any grain is called: fetching and parsing count, as they do for the raw consumers.
    using var firstRead = new ProviderFirstRead();

    var port = 2 * ((round * 8) + (live ? 4 : 0) + (implicitOnly ? 2 : 0) + (tracing is null ? 0 : 1));
    using var host = Host.CreateDefaultBuilder()
        .ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning))
        .UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: 11211 + port, gatewayPort: 30100 + port);
            silo.AddMemoryGrainStorage("PubSubStore");
            silo.WithoutProfiles(); // the counting grain is the consumer measured
            silo.AddKafkaStreams(StreamNames.Provider, provider =>
            {
                provider.ConfigureKafka(options =>
                {
                    options.BootstrapServers = kafka.BootstrapServers;
                    options.ConsumerGroup = topic;
                    options.AddTopic(topic, partitions, StreamNames.Events);
                    options.MaxBatchSize = maxBatch;
                    options.TraceSampleRatio = tracing ?? 1.0;
                    options.ConsumerProperties["fetch.wait.max.ms"] = "50"; // as the raw consumers: the embedded broker answers a fetch only when its wait is over
                });
                provider.ConfigureCache(cache => cache.MaxRecords = cacheRecords);
                provider.UseDataAdapter(_ => new StreamEventDataAdapter());
                if (implicitOnly)
                {
                    provider.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
                }
            });
        })
        .Build();
    if (!live)
    {
        await ProduceAsync(topic);
    }

    await host.StartAsync();
    long started;
    if (live)
    {
        // Every partition has a reader before the first event is produced.
        var registry = host.Services.GetRequiredService<StreamGrains.Kafka.Providers.KafkaAdapterFactoryRegistry>();
        while (registry.Get(StreamNames.Provider)?.Partitions.Count(p => p.Owner is not null) != partitions)
        {
            await Task.Delay(10);
        }

        started = Stopwatch.GetTimestamp();
        await ProduceAsync(topic);
    }
    else
    {
        while (firstRead.Timestamp == 0)
        {
            await Task.Delay(1);
        }

        started = firstRead.Timestamp;
    }

    while (CountingGrain.Total < records)
    {
        await Task.Delay(5);
    }

    var rate = records / Stopwatch.GetElapsedTime(started).TotalSeconds;
    await host.StopAsync();
    Console.WriteLine($"round {round}, {(live ? "live" : "backlog")}: provider -> counting grain ({(implicitOnly ? "implicit-only" : "explicit+implicit")} pub-sub{(tracing is null ? string.Empty : $", tracing at {tracing:P1}")}): {rate:N0} events/s");
    return rate;
}

async Task<List<double>> FirstEventLatenciesAsync(TimeSpan readWait, int samples)
{
    var topic = $"first-{(int)readWait.TotalMilliseconds}";
    kafka.CreateTopic(topic, partitions);
    kafka.CreateTopic(topic + ".dlq", partitions);
    CountingGrain.Reset();
    using var host = Host.CreateDefaultBuilder()
        .ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning))
        .UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: 11500 + (int)readWait.TotalMilliseconds % 100, gatewayPort: 30500 + (int)readWait.TotalMilliseconds % 100);
            silo.AddMemoryGrainStorage("PubSubStore");
            silo.WithoutProfiles(); // the counting grain is the consumer measured
            silo.AddKafkaStreams(StreamNames.Provider, provider =>
            {
                provider.ConfigureKafka(options =>
                {
                    options.BootstrapServers = kafka.BootstrapServers;
                    options.ConsumerGroup = topic;
                    options.AddTopic(topic, partitions, StreamNames.Events);
                    options.ReadWaitTime = readWait;
                    options.ConsumerProperties["fetch.wait.max.ms"] = "50";
                });
                provider.UseDataAdapter(_ => new StreamEventDataAdapter());
                provider.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
            });
        })
        .Build();
    await host.StartAsync();
    var registry = host.Services.GetRequiredService<StreamGrains.Kafka.Providers.KafkaAdapterFactoryRegistry>();
    while (registry.Get(StreamNames.Provider)?.Partitions.Count(p => p.Owner is not null) != partitions)
    {
        await Task.Delay(10);
    }

    using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers, Partitioner = Partitioner.Murmur2Random, LingerMs = 0 }).Build();
    var random = new Random(7);
    var latencies = new List<double>();
    for (var i = 0; i < samples + 4; i++)
    {
        await Task.Delay(random.Next(300, 1500)); // a quiet spell
        var before = CountingGrain.Total;
        var entity = $"card-{i % 4}"; // four entities, activated in the unrecorded first rounds
        var sent = Stopwatch.GetTimestamp();
        producer.Produce(topic, new Message<string, byte[]> { Key = entity, Value = StreamEventJson.Serialize(new StreamEvent { Id = $"e{i}", Entity = entity, Type = "payment", Timestamp = DateTimeOffset.UtcNow, Value = 1 }) });
        producer.Flush();
        while (CountingGrain.Total == before)
        {
            await Task.Delay(1);
        }

        if (i >= 4)
        {
            latencies.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
        }
    }

    await host.StopAsync();
    latencies.Sort();
    return latencies;
}

Task ProduceAsync(string topic) => Task.Run(() =>
{
    using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
    {
        BootstrapServers = kafka.BootstrapServers,
        EnableIdempotence = true,
        Partitioner = Partitioner.Murmur2Random,
        LingerMs = 5,
    }).Build();
    foreach (var message in payloads)
    {
        BenchProducer.Send(producer, topic, message);
    }

    producer.Flush(TimeSpan.FromMinutes(1));
});

static List<Message<string, byte[]>> MakePayloads(int count, int entities)
{
    var random = new Random(42);
    var start = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    return Enumerable.Range(0, count).Select(i =>
    {
        var entity = $"card-{random.Next(entities):D6}";
        return new Message<string, byte[]>
        {
            Key = entity,
            Value = StreamEventJson.Serialize(new StreamEvent
            {
                Id = $"evt-{i}",
                Entity = entity,
                Type = "payment",
                Timestamp = start.AddMilliseconds(i),
                Value = Math.Round(random.NextDouble() * 100, 2),
                Attributes = new Dictionary<string, AttributeValue> { ["merchant"] = $"m-{random.Next(500)}", ["country"] = "DE" },
            }),
        };
    }).ToList();
}

int Arg(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

/// <summary>Drops every span: the benchmark measures making them, not shipping them.</summary>
internal sealed class DroppingExporter : OpenTelemetry.BaseExporter<System.Diagnostics.Activity>
{
    public override OpenTelemetry.ExportResult Export(in OpenTelemetry.Batch<System.Diagnostics.Activity> batch) => OpenTelemetry.ExportResult.Success;
}
