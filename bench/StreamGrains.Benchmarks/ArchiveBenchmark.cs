using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Hosting;
using Orleans.Streams;
using StreamGrains.Events;
using StreamGrains.Hosting;
using StreamGrains.Kafka.Checkpointing;
using StreamGrains.Kafka.Embedded;
using StreamGrains.Kafka.Hosting;
using StreamGrains.Kafka.Observers;
using StreamGrains.Silo.Kafka;
using StreamGrains.Storage;
using StreamGrains.Storage.Archive;
using StreamGrains.Testing;

namespace StreamGrains.Benchmarks;

/// <summary>
/// The event archive through the whole path: events produced live at a fixed rate into the embedded broker, read by the
/// provider in a silo, archived into a PostgreSQL of its own (durable settings: fsync and synchronous commit on) by
/// <see cref="EventArchive"/>. Reports the rate archived and the archive lag (a batch's newest Kafka timestamp to its
/// commit) per rate.
///   dotnet run -c Release --project bench/StreamGrains.Benchmarks -- --archive [--rates 25000,50000,75000] [--seconds 10]
/// </summary>
internal static class ArchiveBenchmark
{
    private static int Writers { get; set; } = new EventArchiveOptions().Writers;

    public static async Task<int> RunAsync(string[] args)
    {
        Writers = int.Parse(Value(args, "--writers", Writers.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        var rates = Value(args, "--rates", "25000,50000,75000,100000").Split(',').Select(r => int.Parse(r, CultureInfo.InvariantCulture)).ToList();
        var seconds = int.Parse(Value(args, "--seconds", "10"), CultureInfo.InvariantCulture);
        await using var postgres = await PostgresServer.StartAsync(fastAndUnsafe: false);
        using var kafka = EmbeddedKafkaCluster.Start();
        Console.WriteLine($"# Event archive: events produced live for {seconds} s into 16 partitions, archived into PostgreSQL (fsync on) by {Writers} writers; {Environment.ProcessorCount} cores; lag after a 1 s warm-up");
        await RunOnceAsync(postgres, kafka, 20_000, 3); // a warm-up run, not reported (JIT, PostgreSQL's caches)
        Console.WriteLine("| target events/s | produced | archived events/s | lag p50 | lag p99 | lag max | all archived once |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var rate in rates)
        {
            Console.WriteLine(await RunOnceAsync(postgres, kafka, rate, seconds));
        }

        return 0;
    }

    private static async Task<string> RunOnceAsync(PostgresServer postgres, EmbeddedKafkaCluster kafka, int rate, int seconds)
    {
        var topic = $"archive-{rate}";
        kafka.CreateTopic(topic, 16);
        kafka.CreateTopic(topic + ".dlq", 16);
        var connectionString = await postgres.CreateDatabaseAsync("bench");
        await using var data = NpgsqlDataSource.Create(connectionString);
        await new PostgresMigrator(data, Microsoft.Extensions.Logging.Abstractions.NullLogger<PostgresMigrator>.Instance).MigrateAsync();

        var lags = new List<double>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "streamgrains.archive.lag")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        var measuring = false; // the first second is a warm-up (JIT, connections, new streams): not in the lag figures
        listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
        {
            if (!Volatile.Read(ref measuring))
            {
                return;
            }

            lock (lags)
            {
                lags.Add(value);
            }
        });
        listener.Start();

        using var host = Host.CreateDefaultBuilder()
            .ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning))
            .ConfigureServices(services =>
            {
                services.AddSingleton(data);
                services.AddSingleton(new EventArchiveOptions { Writers = Writers });
                services.AddSingleton<EventArchive>();
                services.AddSingleton<IKafkaReadObserver>(sp => sp.GetRequiredService<EventArchive>());
                services.AddSingleton<IKafkaCommitGate>(sp => sp.GetRequiredService<EventArchive>());
                services.AddHostedService(sp => sp.GetRequiredService<EventArchive>());
            })
            .UseOrleans(silo =>
            {
                silo.UseLocalhostClustering(siloPort: 12000 + (rate / 1000 % 1000), gatewayPort: 31000 + (rate / 1000 % 1000));
                silo.AddMemoryGrainStorage("PubSubStore");
                silo.WithoutProfiles();
                silo.AddKafkaStreams(StreamNames.Provider, provider =>
                {
                    provider.ConfigureKafka(options =>
                    {
                        options.BootstrapServers = kafka.BootstrapServers;
                        options.ConsumerGroup = topic;
                        options.AddTopic(topic, 16, StreamNames.Events);
                        options.ConsumerProperties["fetch.wait.max.ms"] = "50";
                    });
                    provider.UseDataAdapter(_ => new StreamEventDataAdapter());
                    provider.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
                });
            })
            .Build();
        await host.StartAsync();
        var registry = host.Services.GetRequiredService<StreamGrains.Kafka.Providers.KafkaAdapterFactoryRegistry>();
        while (registry.Get(StreamNames.Provider)?.Partitions.Count(p => p.Owner is not null) != 16)
        {
            await Task.Delay(10);
        }

        // Live: a steady rate, in 10 ms steps.
        var produced = 0;
        var watch = Stopwatch.StartNew();
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers, Partitioner = Partitioner.Murmur2Random, LingerMs = 2, EnableIdempotence = true }).Build())
        {
            var total = rate * seconds;
            while (produced < total)
            {
                if (!measuring && watch.Elapsed > TimeSpan.FromSeconds(1))
                {
                    Volatile.Write(ref measuring, true);
                }

                var due = (int)Math.Min(total, watch.Elapsed.TotalSeconds * rate);
                for (; produced < due; produced++)
                {
                    var entity = $"card-{produced % 10_000:D5}";
                    var message = new Message<string, byte[]>
                    {
                        Key = entity,
                        Value = StreamEventJson.Serialize(new StreamEvent { Id = $"e{produced}", Entity = entity, Type = "payment", Timestamp = DateTimeOffset.UtcNow, Value = produced % 100 }),
                    };
                    BenchProducer.Send(producer, topic, message);
                }

                await Task.Delay(10);
            }

            producer.Flush(TimeSpan.FromMinutes(1));
        }

        long archived = 0;
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            await using var count = data.CreateCommand("SELECT count(*) FROM events");
            archived = (long)(await count.ExecuteScalarAsync())!;
            if (archived >= produced)
            {
                break;
            }

            await Task.Delay(50);
        }

        var elapsed = watch.Elapsed.TotalSeconds;
        await using (var distinct = data.CreateCommand("SELECT count(DISTINCT (partition, \"offset\")) FROM events"))
        {
            var once = (long)(await distinct.ExecuteScalarAsync())! == produced && archived == produced;
            await host.StopAsync();
            double[] sorted;
            lock (lags)
            {
                sorted = [.. lags.Order()];
            }

            string Ms(double q) => sorted.Length == 0 ? "-" : $"{sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))]:N0} ms";
            return $"| {rate:N0} | {produced:N0} | {archived / elapsed:N0} | {Ms(0.5)} | {Ms(0.99)} | {(sorted.Length == 0 ? "-" : $"{sorted[^1]:N0} ms")} | {(once ? "yes" : $"no ({archived:N0})")} |";
        }
    }

    private static string Value(string[] args, string name, string fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
    }
}
