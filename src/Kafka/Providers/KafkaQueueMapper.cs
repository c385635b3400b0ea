using System.Text;

namespace StreamGrains.Kafka.Providers;

/// <summary>
/// One Orleans queue per partition of every consumed topic. A stream (namespace, key) maps to the topic of its
/// namespace and to the partition Kafka's default partitioner picks for its key, so a grain's stream and the records
/// external producers write under the same key share one queue. Queues sit evenly on Orleans' hash ring, so the
/// consistent-ring balancer spreads them over the silos.
/// </summary>
internal sealed class KafkaQueueMapper : IConsistentRingStreamQueueMapper
{
    private readonly QueueId[] _queues;
    private readonly Dictionary<QueueId, TopicPartitionRef> _partitionsByQueue = [];
    private readonly Dictionary<TopicPartitionRef, QueueId> _queuesByPartition = [];
    private readonly Dictionary<string, KafkaTopicLayout> _topicsByNamespace = new(StringComparer.Ordinal);

    public KafkaQueueMapper(IEnumerable<KafkaTopicLayout> topics)
    {
        var layouts = topics.ToList();
        foreach (var layout in layouts)
        {
            _topicsByNamespace[layout.Namespace] = layout;
        }

        var consumed = layouts.Where(t => t.Consume).SelectMany(t => Enumerable.Range(0, t.Partitions).Select(p => new TopicPartitionRef(t.Topic, p))).ToList();
        var spacing = consumed.Count == 0 ? 0 : uint.MaxValue / (uint)consumed.Count;
        _queues = new QueueId[consumed.Count];
        for (var i = 0; i < consumed.Count; i++)
        {
            var queue = QueueId.GetQueueId(consumed[i].Topic, (uint)consumed[i].Partition, unchecked(spacing * (uint)i));
            _queues[i] = queue;
            _partitionsByQueue[queue] = consumed[i];
            _queuesByPartition[consumed[i]] = queue;
        }
    }

    public IReadOnlyCollection<KafkaTopicLayout> Topics => _topicsByNamespace.Values;

    public IEnumerable<QueueId> GetAllQueues() => _queues;

    public IEnumerable<QueueId> GetQueuesForRange(IRingRange range) => _queues.Where(q => range.InRange(q.GetUniformHashCode()));

    public QueueId GetQueueForStream(StreamId streamId)
    {
        var (topic, partition) = PartitionOfStream(streamId);
        return _queuesByPartition.TryGetValue(new TopicPartitionRef(topic.Topic, partition), out var queue)
            ? queue
            : throw new ArgumentException($"Topic '{topic.Topic}' is publish-only: its streams have no queue.", nameof(streamId));
    }

    /// <summary>The topic and partition of a queue.</summary>
    public TopicPartitionRef PartitionOf(QueueId queue) =>
        _partitionsByQueue.TryGetValue(queue, out var partition) ? partition : throw new ArgumentException($"{queue} is not a queue of this provider.", nameof(queue));

    /// <summary>The topic a stream's events are written to and the partition its key lands on.</summary>
    public (KafkaTopicLayout Topic, int Partition) PartitionOfStream(StreamId streamId)
    {
        var topic = TopicOf(streamId);
        return (topic, KafkaPartitioner.PartitionOf(streamId.Key.Span, topic.Partitions));
    }

    /// <summary>The topic of a stream's namespace.</summary>
    public KafkaTopicLayout TopicOf(StreamId streamId)
    {
        var ns = streamId.GetNamespace();
        return ns is not null && _topicsByNamespace.TryGetValue(ns, out var topic)
            ? topic
            : throw new ArgumentException($"Stream namespace '{ns}' maps to no Kafka topic of this provider (known: {string.Join(", ", _topicsByNamespace.Keys)}).", nameof(streamId));
    }

    /// <summary>The stream id of a record of <paramref name="topic"/> with key <paramref name="key"/>.</summary>
    public static StreamId StreamIdOf(KafkaTopicLayout topic, string key) => StreamId.Create(topic.Namespace, key);

    internal static byte[] KeyBytes(StreamId streamId) => streamId.Key.ToArray();

    internal static string KeyText(StreamId streamId) => Encoding.UTF8.GetString(streamId.Key.Span);
}

/// <summary>A topic of the provider with its partition count resolved.</summary>
/// <param name="Topic">The topic name.</param>
/// <param name="Namespace">Its stream namespace.</param>
/// <param name="Partitions">Its partition count.</param>
/// <param name="Consume">Whether the provider reads it.</param>
internal sealed record KafkaTopicLayout(string Topic, string Namespace, int Partitions, bool Consume);

/// <summary>A topic and partition.</summary>
/// <param name="Topic">The topic.</param>
/// <param name="Partition">The partition.</param>
internal readonly record struct TopicPartitionRef(string Topic, int Partition)
{
    public override string ToString() => $"{Topic}[{Partition}]";
}
