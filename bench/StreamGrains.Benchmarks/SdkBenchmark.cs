using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StreamGrains.Client;
using StreamGrains.Events;
using StreamGrains.Hosting;

namespace StreamGrains.Benchmarks;

/// <summary>
/// The SDK over HTTP against its cluster mode, on one silo process (embedded broker, Memory storage, no demo), in one
/// run, alternating: the latency of a profile query (sequential calls, one in flight) and the throughput of publishing
/// (batches of 500 events, one batch in flight, each answered once Kafka acknowledged it). Same silo, same entities,
/// same events, same clock (<see cref="Stopwatch"/>).
///   dotnet build -c Release src/Silo
///   dotnet run -c Release --project bench/StreamGrains.Benchmarks -- --sdk [--queries 2000] [--events 50000] [--rounds 4]
/// Recorded rounds alternate which mode goes first; an even number of them gives each mode the first turn equally.
/// </summary>
internal static class SdkBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var queries = int.Parse(ClusterBenchmark.Value(args, "--queries", "2000"), CultureInfo.InvariantCulture);
        var events = int.Parse(ClusterBenchmark.Value(args, "--events", "50000"), CultureInfo.InvariantCulture);
        var rounds = int.Parse(ClusterBenchmark.Value(args, "--rounds", "4"), CultureInfo.InvariantCulture);
        var siloDll = Path.Combine(ClusterBenchmark.FindRoot(), "src/Silo/bin/Release/net10.0/StreamGrains.Silo.dll");
        if (!File.Exists(siloDll))
        {
            Console.Error.WriteLine("Build the silo first: dotnet build -c Release src/Silo");
            return 2;
        }

        var (httpPort, siloPort, gatewayPort) = (ClusterBenchmark.FreePort(), ClusterBenchmark.FreePort(), ClusterBenchmark.FreePort());
        var url = $"http://127.0.0.1:{httpPort}";
        using var silo = ClusterBenchmark.Start(siloDll, ["--demo", "false", "--urls", url, "--silo-port", $"{siloPort}", "--gateway-port", $"{gatewayPort}"]);
        var spill = Directory.CreateTempSubdirectory("sg-bench-spill-");
        try
        {
            while (!await ClusterBenchmark.ReadyAsync(url))
            {
                await Task.Delay(200);
            }

            await using var http = StreamGrainsClient.Create(new StreamGrainsClientOptions { BaseAddress = new Uri(url) });
            var bootstrap = (await http.GetInfoAsync()).Kafka.BootstrapServers;
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.AddStreamGrainsClusterClient(o =>
            {
                o.Gateways.Add($"127.0.0.1:{gatewayPort}");
                o.KafkaBootstrapServers = bootstrap;
                o.SpillDirectory = spill.FullName;
            });
            using var host = builder.Build();
            await host.StartAsync();
            var cluster = host.Services.GetRequiredService<IStreamGrainsClient>();
            var clients = new (string Name, IStreamGrainsClient Client)[] { ("HTTP", http), ("cluster", cluster) };

            // 1,000 entities with profiles to query.
            await http.PublishAsync(Events(0, 1_000));
            while (await http.GetProfileAsync("card-0999") is null || await http.GetProfileAsync("card-0000") is null)
            {
                await Task.Delay(100);
            }

            Console.WriteLine($"# SDK: HTTP against cluster mode, one silo process (embedded broker), {Environment.ProcessorCount} cores; {queries:N0} profile queries and {events:N0} events in batches of 500 per mode and round; round 0 is a warm-up");
            var latencies = clients.ToDictionary(c => c.Name, _ => new List<double>());
            var rates = clients.ToDictionary(c => c.Name, _ => new List<double>());
            var next = 1_000;
            for (var round = 0; round <= rounds; round++)
            {
                foreach (var (name, client) in round % 2 == 1 ? clients : clients.Reverse())
                {
                    var samples = new List<double>(queries);
                    for (var i = 0; i < queries; i++)
                    {
                        var watch = Stopwatch.StartNew();
                        _ = await client.GetProfileAsync($"card-{i % 1_000:D4}") ?? throw new InvalidOperationException("a profile is missing");
                        samples.Add(watch.Elapsed.TotalMilliseconds);
                    }

                    var publishing = Stopwatch.StartNew();
                    for (var sent = 0; sent < events; sent += 500)
                    {
                        var answer = await client.PublishAsync(Events(next, 500));
                        next += 500;
                        if (answer.Spilled > 0)
                        {
                            throw new InvalidOperationException("events spilled: Kafka did not keep up");
                        }
                    }

                    var rate = events / publishing.Elapsed.TotalSeconds;
                    samples.Sort();
                    Console.WriteLine($"round {round}: {name}: profile p50 {samples[samples.Count / 2]:F2} ms, p99 {samples[samples.Count * 99 / 100]:F2} ms; publish {rate:N0} events/s");
                    if (round > 0)
                    {
                        latencies[name].AddRange(samples);
                        rates[name].Add(rate);
                    }
                }
            }

            Console.WriteLine();
            Console.WriteLine("| mode | profile query p50 | p99 | p99.9 | publish events/s (median; rounds in order) |");
            Console.WriteLine("|---|---|---|---|---|");
            foreach (var (name, _) in clients)
            {
                var all = latencies[name].Order().ToList();
                var median = rates[name].Order().ElementAt(rates[name].Count / 2);
                Console.WriteLine($"| {name} | {all[all.Count / 2]:F2} ms | {all[all.Count * 99 / 100]:F2} ms | {all[all.Count * 999 / 1000]:F2} ms | {median:N0} ({string.Join(", ", rates[name].Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))}) |");
            }

            await host.StopAsync();
            return 0;
        }
        finally
        {
            silo.Kill(entireProcessTree: true);
            spill.Delete(recursive: true);
        }
    }

    private static List<StreamEvent> Events(int first, int count) =>
        Enumerable.Range(first, count).Select(i => new StreamEvent
        {
            Id = $"e{i}",
            Entity = $"card-{i % 1_000:D4}",
            Type = "payment",
            Timestamp = DateTimeOffset.UtcNow,
            Value = i % 100,
        }).ToList();
}
