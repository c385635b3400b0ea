using Confluent.Kafka;
using StreamGrains.Kafka.Checkpointing;
using StreamGrains.Profiles;
using StreamGrains.Silo.Kafka;

namespace StreamGrains.Silo.Profiles;

/// <summary>
/// Holds the input's offset commits back to what every profile of this silo has stored: after a crash, Kafka
/// re-delivers exactly what the stored profiles lack.
/// </summary>
internal sealed class ProfileCommitGate(KafkaEnvironment kafka, ProfileCheckpoints checkpoints) : IKafkaCommitGate
{
    public ValueTask<long> GetCommittableOffsetAsync(TopicPartition partition, long deliveredOffset, CancellationToken cancellationToken) =>
        ValueTask.FromResult(
            partition.Topic == kafka.InputTopic && checkpoints.FirstUnstored(partition.Partition.Value) is { } unstored
                ? Math.Min(deliveredOffset, unstored)
                : deliveredOffset);
}
