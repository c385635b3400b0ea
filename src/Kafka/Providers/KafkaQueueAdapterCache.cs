using Microsoft.Extensions.Logging;
using StreamGrains.Kafka.Statistics;

namespace StreamGrains.Kafka.Providers;

/// <summary>Makes one <see cref="KafkaQueueCache"/> per partition this silo reads.</summary>
internal sealed class KafkaQueueAdapterCache(
    Func<QueueId, KafkaPartitionContext> partitions,
    KafkaQueueCacheOptions options,
    KafkaStreamMetrics metrics,
    KafkaDeliveryErrors errors,
    TimeSpan maxEventDeliveryTime,
    TimeProvider time,
    ILoggerFactory loggerFactory) : IQueueAdapterCache
{
    public IQueueCache CreateQueueCache(QueueId queueId) =>
        new KafkaQueueCache(partitions(queueId), options, metrics, time, loggerFactory.CreateLogger<KafkaQueueCache>(), errors, maxEventDeliveryTime);
}
