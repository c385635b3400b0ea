using Confluent.Kafka;

namespace StreamGrains.Kafka.Checkpointing;

/// <summary>
/// Holds offset commits back. The provider commits an offset only once every event before it was delivered to every
/// consumer; a gate may lower that further, e.g. to the offset up to which grain state is durable, which gives
/// effectively-once state: after a crash, Kafka re-delivers exactly what the durable state does not cover yet.
/// </summary>
/// <remarks>Register one in the service collection; the provider asks every registered gate and takes the lowest answer.</remarks>
public interface IKafkaCommitGate
{
    /// <summary>The highest offset of <paramref name="partition"/> that may be committed now.</summary>
    /// <param name="partition">The topic and partition.</param>
    /// <param name="deliveredOffset">The offset before which everything was delivered (the next offset to read).</param>
    /// <param name="cancellationToken">Cancels the question.</param>
    /// <returns>An offset at most <paramref name="deliveredOffset"/>.</returns>
    ValueTask<long> GetCommittableOffsetAsync(TopicPartition partition, long deliveredOffset, CancellationToken cancellationToken);
}
