using System.Globalization;
using System.Runtime.InteropServices;
using StreamGrains.Kafka.Embedded;

// The embedded Kafka broker as its own process: several silo processes share it, and a silo can be killed
// without taking the broker down. It prints "bootstrap.servers=..." for scripts and tests to read.
// Standard input takes fault-injection commands: down <broker>, up <broker>, rtt <broker> <ms>, leader <topic> <partition> <broker>, topic <name> <partitions>, quit.

var brokers = 1;
var partitions = 8;
var topics = new List<string> { "events", "events.dlq", "decisions", "events.enriched", "aggregates", "sessions", "events.late" };
string? bootstrapFile = null;
for (var i = 0; i < args.Length; i++)
{
    string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    switch (args[i])
    {
        case "--brokers":
            brokers = int.Parse(Value(), CultureInfo.InvariantCulture);
            break;
        case "--partitions":
            partitions = int.Parse(Value(), CultureInfo.InvariantCulture);
            break;
        case "--topics":
            topics = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            break;
        case "--bootstrap-file":
            bootstrapFile = Value();
            break;
        case "-h" or "--help":
            Console.WriteLine("usage: StreamGrains.KafkaBroker [--brokers N] [--partitions P] [--topics a,b] [--bootstrap-file PATH]");
            return 0;
        default:
            Console.Error.WriteLine($"Unknown argument '{args[i]}'. Try --help.");
            return 2;
    }
}

if (brokers < 1 || partitions < 1)
{
    Console.Error.WriteLine($"--brokers and --partitions must be at least 1 (were {brokers} and {partitions}).");
    return 2;
}

using var cluster = EmbeddedKafkaCluster.Start(brokers);
foreach (var topic in topics)
{
    cluster.CreateTopic(topic, partitions);
}

if (bootstrapFile is not null)
{
    await File.WriteAllTextAsync(bootstrapFile, cluster.BootstrapServers);
}

Console.WriteLine($"Embedded Kafka broker is up: {brokers} broker(s), topics {string.Join(", ", topics.Select(t => $"{t} ({partitions} partitions)"))}");
Console.WriteLine($"bootstrap.servers={cluster.BootstrapServers}");
Console.WriteLine("Commands on standard input: down <broker|-1>, up <broker|-1>, rtt <broker|-1> <ms>, leader <topic> <partition> <broker|-1>, topic <name> <partitions>, quit. Ctrl+C stops.");

var stop = new CancellationTokenSource(); // not disposed: signal handlers may still fire while the process exits
void OnSignal(PosixSignalContext context)
{
    context.Cancel = true; // we stop by ourselves, after freeing the cluster
    stop.Cancel();
}

using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

_ = Task.Run(() =>
{
    while (!stop.IsCancellationRequested && Console.In.ReadLine() is { } line)
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            continue;
        }

        try
        {
            int Broker() => parts.Length >= 2 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : throw new FormatException($"usage: {parts[0]} <broker|-1>");
            switch (parts[0])
            {
                case "down":
                    cluster.SetBrokerDown(Broker());
                    break;
                case "up":
                    cluster.SetBrokerUp(Broker());
                    break;
                case "rtt":
                    if (parts.Length != 3)
                    {
                        throw new FormatException("usage: rtt <broker|-1> <milliseconds>");
                    }

                    cluster.SetRoundTripTime(Broker(), TimeSpan.FromMilliseconds(int.Parse(parts[2], CultureInfo.InvariantCulture)));
                    break;
                case "leader":
                    if (parts.Length != 4)
                    {
                        throw new FormatException("usage: leader <topic> <partition> <broker|-1>");
                    }

                    cluster.SetPartitionLeader(parts[1], int.Parse(parts[2], CultureInfo.InvariantCulture), int.Parse(parts[3], CultureInfo.InvariantCulture));
                    break;
                case "topic":
                    if (parts.Length != 3)
                    {
                        throw new FormatException("usage: topic <name> <partitions>");
                    }

                    cluster.CreateTopic(parts[1], int.Parse(parts[2], CultureInfo.InvariantCulture));
                    break;
                case "quit":
                    stop.Cancel();
                    return;
                default:
                    Console.WriteLine($"unknown command '{parts[0]}'; commands: down <broker|-1>, up <broker|-1>, rtt <broker|-1> <ms>, leader <topic> <partition> <broker|-1>, topic <name> <partitions>, quit");
                    continue;
            }

            Console.WriteLine($"ok {line}");
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException or Confluent.Kafka.KafkaException)
        {
            Console.WriteLine($"error {line}: {ex.Message}");
        }
    }
});

try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
}

Console.WriteLine("Embedded Kafka broker stopped.");
return 0;
