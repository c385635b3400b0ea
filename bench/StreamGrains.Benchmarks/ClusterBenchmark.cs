using System.Diagnostics;
using System.Globalization;
using System.Net.Http;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using StreamGrains.Events;

namespace StreamGrains.Benchmarks;

/// <summary>
/// Events per second through the provider with 1, 2 and 3 silo processes on one machine: the standalone embedded broker,
/// silos on localhost clustering (Memory storage, no demo), and events produced live as fast as the producer goes while
/// the silos read; the clock runs from the first event produced until the silos' <c>records.consumed</c> counters (from
/// their <c>/metrics</c>) add up to all of them. Until the domain grains exist, no grain consumes the events: this is
/// the provider's reading, decoding and caching, spread over the silos.
///   dotnet build -c Release src/Silo &amp;&amp; dotnet build -c Release src/KafkaBroker
///   dotnet run -c Release --project bench/StreamGrains.Benchmarks -- --cluster [--silos 1,2,3] [--records 300000] [--rounds 3]
/// </summary>
internal static partial class ClusterBenchmark
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public static async Task<int> RunAsync(string[] args)
    {
        var silos = Value(args, "--silos", "1,2,3").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList();
        var records = int.Parse(Value(args, "--records", "300000"), CultureInfo.InvariantCulture);
        var rounds = int.Parse(Value(args, "--rounds", "3"), CultureInfo.InvariantCulture);
        var root = FindRoot();
        var siloDll = Path.Combine(root, "src/Silo/bin/Release/net10.0/StreamGrains.Silo.dll");
        var brokerDll = Path.Combine(root, "src/KafkaBroker/bin/Release/net10.0/StreamGrains.KafkaBroker.dll");
        if (!File.Exists(siloDll) || !File.Exists(brokerDll))
        {
            Console.Error.WriteLine("Build the silo and the broker first: dotnet build -c Release src/Silo && dotnet build -c Release src/KafkaBroker");
            return 2;
        }

        Console.WriteLine($"# Provider throughput over silo processes: {records:N0} events on 10,000 entities, 16 partitions, produced live; {Environment.ProcessorCount} cores, {rounds} rounds each");
        var results = new Dictionary<int, List<double>>();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var count in silos)
            {
                var rate = await RunOnceAsync(siloDll, brokerDll, count, records);
                Console.WriteLine($"round {round}: {count} silo(s): {rate:N0} events/s");
                (results.TryGetValue(count, out var list) ? list : results[count] = []).Add(rate);
            }
        }

        Console.WriteLine();
        Console.WriteLine("| silo processes | events/s (median) | runs |");
        Console.WriteLine("|---|---|---|");
        foreach (var (count, rates) in results)
        {
            var sorted = rates.Order().ToList();
            Console.WriteLine($"| {count} | {sorted[sorted.Count / 2]:N0} | {string.Join(", ", sorted.Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))} |");
        }

        return 0;
    }

    private static async Task<double> RunOnceAsync(string siloDll, string brokerDll, int silos, int records)
    {
        var bootstrapFile = Path.GetTempFileName();
        File.Delete(bootstrapFile);
        using var broker = Start(brokerDll, ["--partitions", "16", "--bootstrap-file", bootstrapFile]);
        var processes = new List<(Process Process, string Url)>();
        try
        {
            while (!File.Exists(bootstrapFile) || new FileInfo(bootstrapFile).Length == 0)
            {
                await Task.Delay(50);
            }

            var bootstrap = await File.ReadAllTextAsync(bootstrapFile);
            int? primary = null;
            for (var i = 0; i < silos; i++)
            {
                var (http, siloPort, gateway) = (FreePort(), FreePort(), FreePort());
                List<string> arguments = ["--kafka", bootstrap, "--demo", "false", "--urls", $"http://127.0.0.1:{http}", "--silo-port", $"{siloPort}", "--gateway-port", $"{gateway}"];
                if (primary is { } p)
                {
                    arguments.AddRange(["--primary-silo-port", $"{p}"]);
                }

                primary ??= siloPort;
                processes.Add((Start(siloDll, arguments), $"http://127.0.0.1:{http}"));
            }

            foreach (var (_, url) in processes)
            {
                while (!await ReadyAsync(url))
                {
                    await Task.Delay(200);
                }
            }

            await Task.Delay(TimeSpan.FromSeconds(2)); // the partitions settle on their owners
            var watch = Stopwatch.StartNew();
            var producing = Task.Run(() => Produce(bootstrap, records));
            while (await ConsumedAsync(processes.Select(p => p.Url)) < records)
            {
                await Task.Delay(50);
            }

            var rate = records / watch.Elapsed.TotalSeconds;
            await producing;
            return rate;
        }
        finally
        {
            foreach (var (process, _) in processes)
            {
                process.Kill(entireProcessTree: true);
                process.Dispose();
            }

            broker.Kill(entireProcessTree: true);
        }
    }

    private static void Produce(string bootstrap, int records)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, Partitioner = Partitioner.Murmur2Random, LingerMs = 5, EnableIdempotence = true }).Build();
        for (var i = 0; i < records; i++)
        {
            var entity = $"card-{i % 10_000:D5}";
            var message = new Message<string, byte[]>
            {
                Key = entity,
                Value = StreamEventJson.Serialize(new StreamEvent { Id = $"e{i}", Entity = entity, Type = "payment", Timestamp = DateTimeOffset.UtcNow, Value = i % 100 }),
            };
            BenchProducer.Send(producer, "events", message);
        }

        producer.Flush(TimeSpan.FromMinutes(1));
    }

    internal static async Task<bool> ReadyAsync(string url)
    {
        try
        {
            using var response = await Http.GetAsync(new Uri($"{url}/health/ready"));
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static async Task<long> ConsumedAsync(IEnumerable<string> urls)
    {
        long total = 0;
        foreach (var url in urls)
        {
            var metrics = await Http.GetStringAsync(new Uri($"{url}/metrics"));
            foreach (Match match in ConsumedLine().Matches(metrics))
            {
                total += (long)double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            }
        }

        return total;
    }

    [GeneratedRegex(@"^streamgrains_kafka_records_consumed_total\{[^}]*\} ([0-9.e+]+)", RegexOptions.Multiline)]
    private static partial Regex ConsumedLine();

    internal static Process Start(string dll, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        info.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    internal static int FreePort()
    {
        using var socket = new TcpListener(System.Net.IPAddress.Loopback, 0);
        socket.Start();
        return ((System.Net.IPEndPoint)socket.LocalEndpoint).Port;
    }

    internal static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "StreamGrains.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("StreamGrains.sln not found above " + AppContext.BaseDirectory);
    }

    internal static string Value(string[] args, string name, string fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
    }
}
