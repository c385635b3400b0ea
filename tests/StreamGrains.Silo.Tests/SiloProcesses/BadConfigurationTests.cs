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
