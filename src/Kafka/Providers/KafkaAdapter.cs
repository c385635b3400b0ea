using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using StreamGrains.Kafka.DataAdapters;
using StreamGrains.Kafka.Statistics;
using StreamGrains.Kafka.Tracing;

namespace StreamGrains.Kafka.Providers;

/// <summary>
/// The queue adapter: publishes stream events to Kafka (one record per event, keyed by the stream key, with the
/// idempotent producer and the Java client's partitioner) and makes a receiver per partition queue.
/// </summary>
internal sealed class KafkaAdapter(
    string name,
    KafkaStreamOptions options,
    KafkaQueueMapper mapper,
    Func<QueueId, KafkaPartitionContext> partitions,
    Func<string, KafkaTopicReader> readers,
    IProducer<byte[]?, byte[]?> producer,
    IKafkaDataAdapter dataAdapter,
    KafkaDeadLetterPublisher deadLetters,
    IReadOnlyList<Observers.IKafkaReadObserver> observers,
    KafkaStreamMetrics metrics,
    string ownerName,
    ILoggerFactory loggerFactory) : IQueueAdapter
{
    public string Name => name;

    public bool IsRewindable => true;

    public StreamProviderDirection Direction => StreamProviderDirection.ReadWrite;

    public async Task QueueMessageBatchAsync<T>(StreamId streamId, IEnumerable<T> events, StreamSequenceToken? token, Dictionary<string, object>? requestContext)
    {
        if (token is not null)
        {
            throw new ArgumentException("Kafka assigns offsets itself: publish with a null sequence token.", nameof(token));
        }

        ArgumentNullException.ThrowIfNull(events);
        var topic = mapper.TopicOf(streamId);
        var key = KafkaQueueMapper.KeyBytes(streamId);
        var keyText = KafkaQueueMapper.KeyText(streamId);
        using var publish = KafkaTracing.StartPublish(topic.Topic, requestContext);
        var writes = new List<Task<DeliveryResult<byte[]?, byte[]?>>>();
        foreach (var evt in events)
        {
            if (evt is null)
            {
                continue;
            }

            var value = dataAdapter.Encode(keyText, evt);
            Headers? headers = null;
            if (publish is not null)
            {
                headers = [];
                KafkaTracing.Inject(publish, headers);
            }

            writes.Add(producer.ProduceAsync(topic.Topic, new Message<byte[]?, byte[]?> { Key = key, Value = value, Headers = headers }));
        }

        await Task.WhenAll(writes).ConfigureAwait(false);
        metrics.Produced(topic.Topic, writes.Count);
    }

    public IQueueAdapterReceiver CreateReceiver(QueueId queueId)
    {
        var partition = partitions(queueId);
        var topic = mapper.Topics.Single(t => t.Topic == partition.Topic);
        return new KafkaAdapterReceiver(partition, topic, readers(topic.Topic), options, dataAdapter, deadLetters, observers, metrics, ownerName, loggerFactory.CreateLogger<KafkaAdapterReceiver>());
    }
}
