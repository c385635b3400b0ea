using Orleans.Runtime;

namespace StreamGrains.Kafka;

/// <summary>Checks a Kafka stream provider's options when the silo or client starts.</summary>
internal sealed class KafkaStreamOptionsValidator(KafkaStreamOptions options, KafkaQueueCacheOptions cacheOptions, string name) : IConfigurationValidator
{
    public void ValidateConfiguration()
    {
        var errors = Errors(options, cacheOptions, name);
        if (errors.Count > 0)
        {
            throw new OrleansConfigurationException(string.Join(Environment.NewLine, errors));
        }
    }

    internal static List<string> Errors(KafkaStreamOptions options, KafkaQueueCacheOptions cache, string name)
    {
        var errors = new List<string>();
        void Require(bool condition, string message)
        {
            if (!condition)
            {
                errors.Add($"Kafka stream provider '{name}': {message}");
            }
        }

        Require(!string.IsNullOrWhiteSpace(options.BootstrapServers), $"{nameof(KafkaStreamOptions.BootstrapServers)} is required.");
        Require(!string.IsNullOrWhiteSpace(options.ConsumerGroup), $"{nameof(KafkaStreamOptions.ConsumerGroup)} is required.");
        Require(options.Topics.Count > 0, "add at least one topic (options.AddTopic(\"events\")).");
        Require(options.CommitInterval > TimeSpan.Zero, $"{nameof(KafkaStreamOptions.CommitInterval)} must be positive, was {options.CommitInterval}.");
        Require(options.MaxBatchSize >= 1, $"{nameof(KafkaStreamOptions.MaxBatchSize)} must be at least 1, was {options.MaxBatchSize}.");
        Require(options.MaxRecordBytes >= 1, $"{nameof(KafkaStreamOptions.MaxRecordBytes)} must be at least 1, was {options.MaxRecordBytes}.");
        Require(!string.IsNullOrEmpty(options.DeadLetterSuffix), $"{nameof(KafkaStreamOptions.DeadLetterSuffix)} must not be empty.");
        Require(options.TraceSampleRatio is >= 0 and <= 1, $"{nameof(KafkaStreamOptions.TraceSampleRatio)} must be between 0 and 1, was {options.TraceSampleRatio}.");
        Require(options.ReadWaitTime >= TimeSpan.Zero && options.ReadWaitTime <= TimeSpan.FromSeconds(10), $"{nameof(KafkaStreamOptions.ReadWaitTime)} must be between 0 and 10 s, was {options.ReadWaitTime}.");
        Require(options.StatisticsInterval >= TimeSpan.FromMilliseconds(100), $"{nameof(KafkaStreamOptions.StatisticsInterval)} must be at least 100 ms, was {options.StatisticsInterval}.");
        Require(options.UnreadableAfter > options.StatisticsInterval, $"{nameof(KafkaStreamOptions.UnreadableAfter)} must be longer than {nameof(KafkaStreamOptions.StatisticsInterval)} ({options.StatisticsInterval}), was {options.UnreadableAfter}.");
        Require(options.MetadataTimeout > TimeSpan.Zero, $"{nameof(KafkaStreamOptions.MetadataTimeout)} must be positive.");
        Require(cache.MaxRecords >= 16, $"{nameof(KafkaQueueCacheOptions)}.{nameof(KafkaQueueCacheOptions.MaxRecords)} must be at least 16, was {cache.MaxRecords}.");
        Require(cache.MaxBytes >= 64 * 1024, $"{nameof(KafkaQueueCacheOptions)}.{nameof(KafkaQueueCacheOptions.MaxBytes)} must be at least 65536, was {cache.MaxBytes}.");
        Require(cache.RewindWindow >= TimeSpan.Zero, $"{nameof(KafkaQueueCacheOptions)}.{nameof(KafkaQueueCacheOptions.RewindWindow)} must not be negative.");

        var names = new HashSet<string>(StringComparer.Ordinal);
        var namespaces = new HashSet<string>(StringComparer.Ordinal);
        foreach (var topic in options.Topics)
        {
            Require(IsTopicName(topic.Name), $"'{topic.Name}' is not a Kafka topic name.");
            Require(names.Add(topic.Name), $"topic '{topic.Name}' is listed twice.");
            Require(namespaces.Add(topic.Namespace), $"stream namespace '{topic.Namespace}' maps to more than one topic.");
            Require(topic.Partitions >= 0, $"topic '{topic.Name}': {nameof(KafkaTopicOptions.Partitions)} must be 0 (read from Kafka) or more, was {topic.Partitions}.");
        }

        return errors;
    }

    private static bool IsTopicName(string name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 249 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}

/// <summary>
/// Refuses pulling-agent settings the provider cannot honour: with <c>BatchContainerBatchSize</c> above 1 the agent moves a
/// cursor past several containers before delivering them, and the cache would count them as delivered too early
/// (the provider packs an entity's events into one container already).
/// </summary>
internal sealed class KafkaPullingAgentOptionsValidator(Orleans.Configuration.StreamPullingAgentOptions options, string name) : IConfigurationValidator
{
    public void ValidateConfiguration()
    {
        if (options.BatchContainerBatchSize != 1)
        {
            throw new OrleansConfigurationException(
                $"Kafka stream provider '{name}': StreamPullingAgentOptions.BatchContainerBatchSize must be 1, was {options.BatchContainerBatchSize}; each container already holds all of an entity's events from one read.");
        }
    }
}
