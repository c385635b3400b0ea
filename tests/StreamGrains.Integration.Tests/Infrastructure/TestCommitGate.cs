using Confluent.Kafka;
using StreamGrains.Kafka.Checkpointing;

namespace StreamGrains.Integration.Tests.Infrastructure;

/// <summary>
/// A commit gate the failure tests control: frozen, it lets no offset be committed, so a silo "killed" in process
/// cannot make a final commit, and a new owner of a partition has to read it again from where the group was.
/// </summary>
internal sealed class TestCommitGate : IKafkaCommitGate
{
    private static volatile bool _frozen;

    /// <summary>True while no commit may pass.</summary>
    public static bool Frozen
    {
        get => _frozen;
        set => _frozen = value;
    }

    public ValueTask<long> GetCommittableOffsetAsync(TopicPartition partition, long deliveredOffset, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_frozen ? -1 : deliveredOffset);
}
