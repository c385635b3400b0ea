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
using StreamGrains.Kafka.Embedded;
using StreamGrains.Kafka.Hosting;
using StreamGrains.Silo.Kafka;

// Provider throughput: events per second through the Kafka stream provider into a trivial counting grain, against a
// raw Confluent.Kafka consumer on the same embedded broker in the same run (the ceiling). Each round writes the events
// to a fresh topic first (the embedded broker keeps ~5 MiB per partition: keep records x ~200 bytes under that), then
// times each consumer from its first event to its last, so neither the producer nor silo start-up is counted; the
// provider's time includes activating a grain and registering a stream per entity, which weighs less the more
// events each entity has (compare --entities 1000 with 10000).
//   dotnet run -c Release --project bench/StreamGrains.Benchmarks -- [--records N] [--entities K] [--partitions P] [--rounds R]

var records = Arg("--records", 300_000);
var entities = Arg("--entities", 10_000);
var partitions = Arg("--partitions", 16);
var rounds = Arg("--rounds", 3);
var traceRatio = new StreamGrains.Silo.Configuration.TelemetrySettings().TraceSampleRatio;
var maxBatch = Arg("--max-batch", new StreamGrains.Kafka.KafkaStreamOptions().MaxBatchSize);
var cacheRecords = Arg("--cache", new StreamGrains.Kafka.KafkaQueueCacheOptions().MaxRecords);

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

using var kafka = EmbeddedKafkaCluster.Start();
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

    var roundResults = new List<(string, double)>
    {
        ("1 raw consumer", await RawConsumerAsync(round, parse: false, consumers: 1)),
        ("1 raw consumer + contract parsing", await RawConsumerAsync(round, parse: true, consumers: 1)),
        ($"{partitions} raw consumers + contract parsing", await RawConsumerAsync(round, parse: true, consumers: partitions)),
        ("provider -> counting grain, implicit-only pub-sub", await ProviderAsync(round, implicitOnly: true)),
        ($"provider -> counting grain, implicit-only pub-sub, tracing at {traceRatio:P1} sampling", await ProviderAsync(round, implicitOnly: true, traceRatio)),
        ("provider -> counting grain, explicit+implicit pub-sub", await ProviderAsync(round, implicitOnly: false)),
    };
    if (round > 0)
    {
        results.AddRange(roundResults);
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

var single = Median("1 raw consumer + contract parsing");
var parallel = Median($"{partitions} raw consumers + contract parsing");
Console.WriteLine();
var untraced = Median("provider -> counting grain, implicit-only pub-sub");
var traced = Median($"provider -> counting grain, implicit-only pub-sub, tracing at {traceRatio:P1} sampling");
Console.WriteLine($"tracing at the default {traceRatio:P1} sampling costs {1 - (traced / untraced):P1} of the provider's throughput (medians)");
foreach (var pubsub in new[] { "implicit-only", "explicit+implicit" })
{
    var provider = Median($"provider -> counting grain, {pubsub} pub-sub");
    Console.WriteLine($"provider ({pubsub} pub-sub) / 1 raw consumer with parsing (the ceiling): {provider / single:P0}; / {partitions} raw consumers with parsing: {provider / parallel:P0}");
}

return 0;

double Median(string name)
{
    var values = results.Where(r => r.Name == name).Select(r => r.EventsPerSecond).Order().ToList();
    return values[values.Count / 2];
}

async Task<double> RawConsumerAsync(int round, bool parse, int consumers)
{
    var topic = $"raw-{round}-{(parse ? "parsed" : "plain")}-{consumers}";
    kafka.CreateTopic(topic, partitions);
    await ProduceAsync(topic);

    // One consumer for every partition, or one per partition on threads of its own (the provider's shape).
    var assignments = Enumerable.Range(0, partitions).GroupBy(p => p % consumers).Select(g => g.ToList()).ToList();
    var total = 0;
    var started = 0L;
    var readers = assignments.Select(assigned => Task.Factory.StartNew(
        () =>
        {
            using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
            {
                BootstrapServers = kafka.BootstrapServers,
                GroupId = topic,
                EnableAutoCommit = false,
                QueuedMaxMessagesKbytes = 8 * 1024,
                FetchWaitMaxMs = 50,
            }).Build();
            consumer.Assign(assigned.Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
            while (Volatile.Read(ref total) < records)
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(20));
                if (result is null)
                {
                    continue;
                }

                Interlocked.CompareExchange(ref started, Stopwatch.GetTimestamp(), 0); // from the first event on
                if (parse)
                {
                    _ = StreamEventJson.Parse(result.Message.Value, result.Message.Key);
                }

                Interlocked.Increment(ref total);
            }
        },
        TaskCreationOptions.LongRunning)).ToList();
    await Task.WhenAll(readers);
    var rate = records / Stopwatch.GetElapsedTime(started).TotalSeconds;
    Console.WriteLine($"round {round}: {consumers} raw consumer(s){(parse ? " + parsing" : string.Empty)}: {rate:N0} events/s");
    return rate;
}

async Task<double> ProviderAsync(int round, bool implicitOnly, double? tracing = null)
{
    var topic = $"provider-{round}-{(implicitOnly ? "implicit" : "explicit")}{(tracing is null ? string.Empty : "-traced")}";

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
    using var host = Host.CreateDefaultBuilder()
        .ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning))
        .UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: 11211 + (2 * round) + (implicitOnly ? 1 : 0), gatewayPort: 30100 + (2 * round) + (implicitOnly ? 1 : 0));
            silo.AddMemoryGrainStorage("PubSubStore");
            silo.AddKafkaStreams(StreamNames.Provider, provider =>
            {
                provider.ConfigureKafka(options =>
                {
                    options.BootstrapServers = kafka.BootstrapServers;
                    options.ConsumerGroup = topic;
                    options.AddTopic(topic, partitions, StreamNames.Events);
                    options.MaxBatchSize = maxBatch;
                    options.TraceSampleRatio = tracing ?? 1.0;
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
    await ProduceAsync(topic);
    await host.StartAsync();
    while (CountingGrain.Total == 0)
    {
        await Task.Delay(1);
    }

    var watch = Stopwatch.StartNew(); // from the first event on: every entity's grain activates and its stream registers
    while (CountingGrain.Total < records)
    {
        await Task.Delay(10);
    }

    var rate = records / watch.Elapsed.TotalSeconds;
    await host.StopAsync();
    Console.WriteLine($"round {round}: provider -> counting grain ({(implicitOnly ? "implicit-only" : "explicit+implicit")} pub-sub{(tracing is null ? string.Empty : $", tracing at {tracing:P1}")}): {rate:N0} events/s");
    return rate;
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
        while (true)
        {
            try
            {
                producer.Produce(topic, message);
                break;
            }
            catch (ProduceException<string, byte[]> ex) when (ex.Error.Code == Confluent.Kafka.ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(10));
            }
        }
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
