using StreamGrains.Silo.Tests.Infrastructure;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary>Bad configuration stops the silo process before anything starts, with a message naming the setting.</summary>
public sealed class BadConfigurationTests
{
    [Theory]
    [InlineData("--StreamGrains:Storage:Kind", "Cassandra", "StreamGrains:Storage:Kind")]
    [InlineData("--StreamGrains:Kafka:Partitions", "-3", "StreamGrains:Kafka:Partitions")]
    [InlineData("--partitions", "lots", "StreamGrains:Kafka:Partitions")]
    [InlineData("--kafka", "no-port-here", "StreamGrains:Kafka:BootstrapServers")]
    public async Task Start_up_fails_with_a_message_that_names_the_setting(string key, string value, string setting)
    {
        await using var silo = SiloProcess.Start(key, value);

        var exitCode = await silo.Process.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exitCode);
        Assert.Contains("Invalid configuration", silo.Process.Errors, StringComparison.Ordinal);
        Assert.Contains(setting, silo.Process.Errors, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--StreamGrains:Kafka:Partitons", "16", "StreamGrains:Kafka:Partitons: no such setting; did you mean StreamGrains:Kafka:Partitions?")]
    [InlineData("--partiton", "16", "--partiton: no such switch; did you mean --partitions?")]
    [InlineData("--StreamGrain:Kafka:Partitions", "16", "StreamGrain: no such setting; did you mean StreamGrains?")]
    public async Task A_misspelled_setting_or_switch_stops_start_up_naming_it(string key, string value, string message)
    {
        await using var silo = SiloProcess.Start(key, value);

        Assert.Equal(2, await silo.Process.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal($"Invalid configuration: {message}", silo.Process.Errors.Trim());
    }

    [Fact]
    public async Task Names_are_case_insensitive_everywhere()
    {
        await using var silo = SiloProcess.Start("--storage", "memory", "--StreamGrains:Kafka:StartFrom", "earliest", "--streamgrains:kafka:partitions", "4", "--demo", "false");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var info = await silo.GetInfoAsync();
        Assert.Equal(4, info.GetProperty("kafka").GetProperty("partitions").GetArrayLength());
    }

    [Fact]
    public async Task An_unreachable_kafka_stops_start_up_with_one_line()
    {
        await using var silo = SiloProcess.Start("--kafka", "127.0.0.1:1", "--StreamGrains:Kafka:ConnectTimeout", "00:00:03");

        Assert.Equal(2, await silo.Process.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var errors = silo.Process.Errors.Trim();
        Assert.DoesNotContain('\n', errors);
        Assert.StartsWith("Invalid configuration: StreamGrains:Kafka:BootstrapServers: no Kafka broker answered at 127.0.0.1:1 within 3 s", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_topics_on_an_external_broker_stop_start_up_naming_them()
    {
        await using var broker = ChildProcess.StartDll(RepositoryPaths.KafkaBrokerDll, ["--partitions", "2", "--topics", "events"], redirectInput: true);
        var bootstrap = await broker.WaitForLineAsync("bootstrap.servers=", TimeSpan.FromSeconds(60));
        await using var silo = SiloProcess.Start("--kafka", bootstrap);

        Assert.Equal(2, await silo.Process.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var errors = silo.Process.Errors.Trim();
        Assert.DoesNotContain('\n', errors);
        Assert.Contains("the topic(s) events.dlq, decisions, events.enriched, aggregates, sessions, events.late do not exist", errors, StringComparison.Ordinal);
        using var admin = new Confluent.Kafka.AdminClientBuilder(new Confluent.Kafka.AdminClientConfig { BootstrapServers = bootstrap }).Build();
        Assert.DoesNotContain(admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics, t => t.Topic == "events.dlq"); // and nothing created it
    }

    [Fact]
    public async Task A_silo_port_another_process_listens_on_stops_start_up_naming_the_switch()
    {
        // As Orleans' own listener does: with SO_REUSEADDR (SO_REUSEPORT on Linux), which let a second silo share the port.
        using var taken = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        taken.SetSocketOption(System.Net.Sockets.SocketOptionLevel.Socket, System.Net.Sockets.SocketOptionName.ReuseAddress, true);
        taken.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        taken.Listen();
        var port = ((System.Net.IPEndPoint)taken.LocalEndPoint!).Port;

        await using var silo = SiloProcess.Start("--silo-port", $"{port}");

        Assert.Equal(2, await silo.Process.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal($"Invalid configuration: StreamGrains:Cluster:SiloPort: port {port} is in use (another silo?); choose another with --silo-port.", silo.Process.Errors.Trim());
    }

    [Fact]
    public async Task Postgres_storage_without_its_connection_string_stops_start_up_naming_it()
    {
        await using var silo = SiloProcess.Start("--storage", "postgres");

        Assert.Equal(2, await silo.Process.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var errors = silo.Process.Errors.Trim();
        Assert.DoesNotContain('\n', errors);
        Assert.StartsWith("Invalid configuration: ConnectionStrings:StreamGrains: required with StreamGrains:Storage:Kind Postgres", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_PostgreSQL_that_cannot_be_reached_stops_start_up_with_one_line()
    {
        await using var silo = SiloProcess.Start("--storage", "postgres", "--ConnectionStrings:StreamGrains", "Host=127.0.0.1;Port=1;Username=nobody;Database=nothing", "--StreamGrains:Storage:ConnectTimeout", "00:00:03");

        Assert.Equal(2, await silo.Process.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var errors = silo.Process.Errors.Trim();
        Assert.DoesNotContain('\n', errors);
        Assert.StartsWith("Invalid configuration: ConnectionStrings:StreamGrains: PostgreSQL at 127.0.0.1:1/nothing cannot be used:", errors, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", errors, StringComparison.Ordinal); // no stack trace
    }

    [Fact]
    public async Task Every_problem_is_reported_at_once()
    {
        await using var silo = SiloProcess.Start("--StreamGrains:Demo:SuspiciousShare", "1.5", "--StreamGrains:Cluster:SiloPort", "0");

        Assert.Equal(2, await silo.Process.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("StreamGrains:Demo:SuspiciousShare", silo.Process.Errors, StringComparison.Ordinal);
        Assert.Contains("StreamGrains:Cluster:SiloPort", silo.Process.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Settings_from_environment_variables_are_validated_too()
    {
        await using var silo = SiloProcess.Start(new Dictionary<string, string> { ["StreamGrains__Storage__Kind"] = "Bogus" });

        Assert.Equal(2, await silo.Process.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("StreamGrains:Storage:Kind: 'Bogus' is not a storage kind", silo.Process.Errors, StringComparison.Ordinal);
    }
}
