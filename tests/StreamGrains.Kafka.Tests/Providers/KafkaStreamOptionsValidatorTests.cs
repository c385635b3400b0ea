namespace StreamGrains.Kafka.Tests.Providers;

public sealed class KafkaStreamOptionsValidatorTests
{
    private static List<string> Errors(KafkaStreamOptions options, KafkaQueueCacheOptions? cache = null) =>
        KafkaStreamOptionsValidator.Errors(options, cache ?? new KafkaQueueCacheOptions(), "kafka");

    [Fact]
    public void Valid_options_pass()
    {
        var options = new KafkaStreamOptions { BootstrapServers = "k:9092" }.AddTopic("events").AddTopic("clicks", 12, "web");
        Assert.Empty(Errors(options));
    }

    [Fact]
    public void Every_problem_is_named_with_the_provider()
    {
        var options = new KafkaStreamOptions { BootstrapServers = "", ConsumerGroup = " ", CommitInterval = TimeSpan.Zero, MaxBatchSize = 0 };
        options.AddTopic("bad topic!").AddTopic("events", -1).AddTopic("events").AddTopic("other", streamNamespace: "events");

        var errors = Errors(options, new KafkaQueueCacheOptions { MaxRecords = 1 });

        Assert.All(errors, e => Assert.StartsWith("Kafka stream provider 'kafka': ", e, StringComparison.Ordinal));
        foreach (var expected in new[] { "BootstrapServers", "ConsumerGroup", "CommitInterval", "MaxBatchSize", "'bad topic!' is not a Kafka topic name", "Partitions must be 0", "listed twice", "maps to more than one topic", "MaxRecords" })
        {
            Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void A_provider_needs_a_topic() =>
        Assert.Contains(Errors(new KafkaStreamOptions { BootstrapServers = "k:9092" }), e => e.Contains("at least one topic", StringComparison.Ordinal));
}
