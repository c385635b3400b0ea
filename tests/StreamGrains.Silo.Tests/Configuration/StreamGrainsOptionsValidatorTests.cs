using Microsoft.Extensions.Configuration;
using StreamGrains.Silo.Configuration;
using StreamGrains.Silo.Hosting;

namespace StreamGrains.Silo.Tests.Configuration;

public sealed class StreamGrainsOptionsValidatorTests
{
    private static StreamGrainsOptions Read(params (string Key, string Value)[] settings) =>
        StreamGrainsSilo.ReadOptions(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build());

    [Fact]
    public void Defaults_are_valid_and_embedded()
    {
        var options = Read();
        Assert.Empty(StreamGrainsOptionsValidator.Errors(options));
        Assert.True(options.Kafka.IsEmbedded);
        Assert.Equal("events.dlq", options.Kafka.DeadLetterTopic);
        Assert.Null(options.Demo.Enabled);
    }

    [Fact]
    public void An_external_kafka_is_read_from_bootstrap_servers()
    {
        var options = Read(("StreamGrains:Kafka:BootstrapServers", "kafka-1:9092, kafka-2:9092"), ("StreamGrains:Storage:Kind", "memory"));
        Assert.False(options.Kafka.IsEmbedded);
    }

    [Theory]
    [InlineData("StreamGrains:Storage:Kind", "Cassandra", "StreamGrains:Storage:Kind: 'Cassandra' is not a storage kind; use one of: Memory, Postgres.")]
    [InlineData("StreamGrains:Storage:Kind", "0", "StreamGrains:Storage:Kind")]
    [InlineData("StreamGrains:Kafka:Partitions", "-1", "StreamGrains:Kafka:Partitions: must be between 1 and 1024, was -1.")]
    [InlineData("StreamGrains:Kafka:Partitions", "x", "StreamGrains:Kafka:Partitions")]
    [InlineData("StreamGrains:Kafka:InputTopic", "bad topic", "StreamGrains:Kafka:InputTopic")]
    [InlineData("StreamGrains:Kafka:BootstrapServers", "kafka:port", "StreamGrains:Kafka:BootstrapServers")]
    [InlineData("StreamGrains:Kafka:EmbeddedBrokers", "0", "StreamGrains:Kafka:EmbeddedBrokers")]
    [InlineData("StreamGrains:Cluster:GatewayPort", "11111", "StreamGrains:Cluster:GatewayPort: must differ")]
    [InlineData("StreamGrains:Cluster:PrimarySiloPort", "70000", "StreamGrains:Cluster:PrimarySiloPort")]
    [InlineData("StreamGrains:Demo:EventsPerSecond", "0", "StreamGrains:Demo:EventsPerSecond")]
    [InlineData("StreamGrains:Api:TrustedProxies:0", "10.0.0.0/33", "StreamGrains:Api:TrustedProxies:0: '10.0.0.0/33' is neither an IP address nor a network")]
    [InlineData("StreamGrains:Api:MaxSpillBytes", "1000", "StreamGrains:Api:MaxSpillBytes: must be at least 1048576 (1 MiB), was 1000.")]
    [InlineData("StreamGrains:Kafka:DecisionsTopic", "no way", "StreamGrains:Kafka:DecisionsTopic")]
    [InlineData("StreamGrains:Kafka:EnrichedTopic", "events", "StreamGrains:Kafka:EnrichedTopic: must differ from Kafka:InputTopic")]
    [InlineData("StreamGrains:Rules:big:Kind", "Treshold", "StreamGrains:Rules:big:Kind: 'Treshold' is not a rule kind")]
    [InlineData("StreamGrains:Rules:big:Kind", "Velocity", "StreamGrains:Rules:big:Within: a Velocity rule needs a positive Within")]
    [InlineData("StreamGrains:Rules:big:Kind", "Expression", "StreamGrains:Rules:big:Expression:")]
    [InlineData("StreamGrains:Context:Kind", "Redis", "StreamGrains:Context:Kind: 'Redis' is not a context kind")]
    [InlineData("StreamGrains:Context:Kind", "File", "StreamGrains:Context:Path: required with Context:Kind File")]
    [InlineData("StreamGrains:Context:Kind", "Postgres", "ConnectionStrings:StreamGrains: required with StreamGrains:Context:Kind Postgres")]
    [InlineData("StreamGrains:Context:RefreshInterval", "00:00:00", "StreamGrains:Context:RefreshInterval")]
    [InlineData("StreamGrains:Profiles:IdleTimeout", "00:00:01", "StreamGrains:Profiles:IdleTimeout")]
    [InlineData("StreamGrains:Aggregations:pay:Window:Kind", "Weekly", "StreamGrains:Aggregations:pay:Window:Kind: 'Weekly' is not a window kind")]
    [InlineData("StreamGrains:Aggregations:pay:Window:Kind", "Tumbling", "StreamGrains:Aggregations:pay:Window:Size: required")]
    [InlineData("StreamGrains:Aggregations:pay:GroupBy", "merchant", "StreamGrains:Aggregations:pay:")]
    [InlineData("StreamGrains:Kafka:LateTopic", "events", "StreamGrains:Kafka:LateTopic: must differ")]
    public void Each_bad_setting_is_named_in_the_error(string key, string value, string expected)
    {
        var ex = Assert.Throws<StreamGrainsSilo.ConfigurationException>(() => Read((key, value)));
        Assert.Contains(ex.Errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Rules_bind_from_named_sections_and_an_empty_enriched_topic_turns_it_off()
    {
        var options = Read(
            ("StreamGrains:Rules:big:Kind", "Threshold"), ("StreamGrains:Rules:big:Above", "500"), ("StreamGrains:Rules:big:EventTypes:0", "payment"),
            ("StreamGrains:Rules:big:EventTypes:1", "refund"), ("StreamGrains:Rules:big:Action", "Flag"), ("StreamGrains:Kafka:EnrichedTopic", ""));
        var rule = options.Rules["big"];
        Assert.Equal(500, rule.Above);
        Assert.Equal(["payment", "refund"], rule.EventTypes);
        Assert.Equal("Flag", rule.Action);
        Assert.True(string.IsNullOrEmpty(options.Kafka.EnrichedTopic));
        Assert.Equal("decisions", options.Kafka.DecisionsTopic);
    }
}
