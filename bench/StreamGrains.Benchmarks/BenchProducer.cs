using Confluent.Kafka;

namespace StreamGrains.Benchmarks;

/// <summary>What every benchmark's producer does: send as fast as librdkafka takes records, waiting when its queue is full.</summary>
internal static class BenchProducer
{
    public static void Send(IProducer<string, byte[]> producer, string topic, Message<string, byte[]> message) =>
        Send(producer, new TopicPartition(topic, Partition.Any), message);

    public static void Send(IProducer<string, byte[]> producer, TopicPartition partition, Message<string, byte[]> message)
    {
        while (true)
        {
            try
            {
                producer.Produce(partition, message);
                return;
            }
            catch (ProduceException<string, byte[]> ex) when (ex.Error.Code == Confluent.Kafka.ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(5));
            }
        }
    }
}
