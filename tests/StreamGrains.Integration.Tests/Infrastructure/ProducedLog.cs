using System.Collections.Concurrent;
using Confluent.Kafka;

namespace StreamGrains.Integration.Tests.Infrastructure;

/// <summary>Where every record a test produced landed, from the producer's delivery reports.</summary>
internal sealed class ProducedLog
{
    private readonly ConcurrentQueue<(int Partition, long Offset, string Key)> _records = new();
    private int _failed;

    public IReadOnlyCollection<(int Partition, long Offset, string Key)> Records => _records;

    public int Failed => _failed;

    /// <summary>(partition, offset) of every record Kafka acknowledged.</summary>
    public HashSet<(int Partition, long Offset)> Offsets => _records.Select(r => (r.Partition, r.Offset)).ToHashSet();

    public void Produce(IProducer<string, byte[]> producer, Message<string, byte[]> message) =>
        producer.Produce(KafkaTestCluster.Namespace, message, report =>
        {
            if (report.Error.IsError)
            {
                Interlocked.Increment(ref _failed);
            }
            else
            {
                _records.Enqueue((report.Partition.Value, report.Offset.Value, message.Key));
            }
        });
}
