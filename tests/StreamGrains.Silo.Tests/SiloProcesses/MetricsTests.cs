using System.Globalization;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using StreamGrains.Silo.Tests.Infrastructure;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary>A running silo, records from a plain Kafka client, and what <c>/metrics</c> and <c>/api/info</c> say about them.</summary>
public sealed partial class MetricsTests
{
    [Fact]
    public async Task Metrics_count_every_record_and_dead_letter_and_lag_returns_to_zero()
    {
        await using var silo = SiloProcess.Start("--demo", "false", "--StreamGrains:Kafka:CommitInterval", "00:00:01");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var info = await silo.GetInfoAsync();
        var bootstrap = info.GetProperty("kafka").GetProperty("bootstrapServers").GetString()!;

        const int valid = 300;
        var poison = new[]
        {
            ("not json at all", "invalid-json"),
            ("""{"entity":"card-1","ts":1}""", "missing-field"),
            ("""{"entity":"card-1","type":"payment","ts":"yesterday"}""", "invalid-field"),
        };
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = bootstrap, Partitioner = Partitioner.Murmur2Random }).Build())
        {
            for (var i = 0; i < valid; i++)
            {
                producer.Produce("events", new Message<string, string> { Key = $"card-{i % 40}", Value = $$"""{"entity":"card-{{i % 40}}","type":"payment","ts":{{1764000000000 + i}},"value":{{i}}}""" });
            }

            for (var i = 0; i < 4; i++)
            {
                foreach (var (value, _) in poison)
                {
                    producer.Produce("events", new Message<string, string> { Key = "card-1", Value = value });
                }
            }

            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }

        var poisonCount = poison.Length * 4;
        string metrics = string.Empty;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            metrics = await silo.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
            if (Sum(metrics, "streamgrains_kafka_records_consumed_total") == valid + poisonCount &&
                Samples(metrics, "streamgrains_kafka_consumer_lag").Count() == 8 && // lag is known from the first statistics report on
                Sum(metrics, "streamgrains_kafka_consumer_lag") == 0 &&
                Sum(metrics, "streamgrains_dlq_records_total") == poisonCount)
            {
                break;
            }

            await Task.Delay(500);
        }

        Assert.Equal(valid + poisonCount, Sum(metrics, "streamgrains_kafka_records_consumed_total"));
        Assert.Equal(poisonCount, Sum(metrics, "streamgrains_dlq_records_total"));
        var byReason = string.Join("; ", Samples(metrics, "streamgrains_dlq_records_total").Select(s => $"{s.Labels} = {s.Value}"));
        foreach (var (_, reason) in poison)
        {
            Assert.True(Sum(metrics, "streamgrains_dlq_records_total", $"reason=\"{reason}\"") == 4, byReason);
        }

        Assert.Equal(8, Samples(metrics, "streamgrains_kafka_consumer_lag").Count()); // one gauge per partition
        Assert.Equal(0, Sum(metrics, "streamgrains_kafka_consumer_lag"));
        Assert.True(Sum(metrics, "streamgrains_kafka_bytes_consumed_bytes_total") > 0);
        Assert.True(Sum(metrics, "dotnet_process_memory_working_set_bytes") > 0);

        Assert.Equal(8, Samples(metrics, "streamgrains_kafka_partition_readable").Count(s => s.Value == 1));

        // /api/info: every partition has its owner, this silo, and offsets that add up to what was produced.
        var self = info.GetProperty("siloAddress").GetString();
        var partitions = new List<System.Text.Json.JsonElement>();
        for (var attempt = 0; attempt < 60; attempt++)
        {
            partitions = (await silo.GetInfoAsync()).GetProperty("kafka").GetProperty("partitions").EnumerateArray().ToList();
            if (partitions.All(p => p.GetProperty("owner").GetString() == self && p.GetProperty("currentOffset").ValueKind == System.Text.Json.JsonValueKind.Number) &&
                partitions.Sum(p => p.GetProperty("currentOffset").GetInt64()) == valid + poisonCount)
            {
                break;
            }

            await Task.Delay(500);
        }

        Assert.Equal(8, partitions.Count);
        Assert.All(partitions, p => Assert.Equal(self, p.GetProperty("owner").GetString()));
        Assert.Equal(valid + poisonCount, partitions.Sum(p => p.GetProperty("currentOffset").GetInt64()));
    }

    private static IEnumerable<(string Labels, double Value)> Samples(string exposition, string name) =>
        exposition.Split('\n')
            .Select(line => SampleLine().Match(line))
            .Where(m => m.Success && m.Groups["name"].Value == name)
            .Select(m => (m.Groups["labels"].Value, double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture)));

    private static double Sum(string exposition, string name, string? label = null) =>
        Samples(exposition, name).Where(s => label is null || s.Labels.Contains(label, StringComparison.Ordinal)).Sum(s => s.Value);

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})?\s+(?<value>[-+0-9.eE]+|NaN)(\s+\d+)?\r?$")]
    private static partial Regex SampleLine();
}
