using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using StreamGrains.Kafka.Checkpointing;
using StreamGrains.Kafka.Embedded;
using StreamGrains.Kafka.Statistics;

namespace StreamGrains.Kafka.Tests.Providers;

public sealed class KafkaCheckpointerTests : IDisposable
{
    private readonly EmbeddedKafkaCluster _kafka = EmbeddedKafkaCluster.Start();
    private readonly KafkaStreamMetrics _metrics = new(new TestMeterFactory());

    public KafkaCheckpointerTests() => _kafka.CreateTopic("events", 2);

    public void Dispose()
    {
        _metrics.Dispose();
        _kafka.Dispose();
    }

    private IConsumer<byte[]?, byte[]?> Consumer(string group) =>
        new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig { BootstrapServers = _kafka.BootstrapServers, GroupId = group, EnableAutoCommit = false }).Build();

    [Fact]
    public async Task Commits_the_delivered_offset_once_and_only_forward()
    {
        var tp = new TopicPartition("events", 1);
        using var consumer = Consumer("forward");
        var checkpointer = new KafkaCheckpointer(tp, [], _metrics, NullLogger.Instance);
        checkpointer.Bind(consumer);

        Assert.Equal(-1, await checkpointer.Load());
        checkpointer.Update(120, DateTime.UtcNow);
        checkpointer.Update(80, DateTime.UtcNow); // an older report changes nothing
        await checkpointer.FlushAsync(CancellationToken.None);

        Assert.Equal(120, checkpointer.CommittedOffset);
        Assert.True(checkpointer.CheckpointExists);
        Assert.Equal(120, await checkpointer.Load());
    }

    [Fact]
    public async Task Commit_gates_hold_the_offset_back_to_the_lowest_answer()
    {
        var tp = new TopicPartition("events", 0);
        using var consumer = Consumer("gated");
        var durableUpTo = 40L;
        var checkpointer = new KafkaCheckpointer(tp, [new Gate(() => durableUpTo), new Gate(() => 1_000)], _metrics, NullLogger.Instance);
        checkpointer.Bind(consumer);

        checkpointer.Update(100, DateTime.UtcNow);
        await checkpointer.FlushAsync(CancellationToken.None);
        Assert.Equal(40, await checkpointer.Load());

        durableUpTo = 100;
        await checkpointer.FlushAsync(CancellationToken.None);
        Assert.Equal(100, await checkpointer.Load());
    }

    [Fact]
    public async Task Without_a_bound_consumer_nothing_is_committed()
    {
        var checkpointer = new KafkaCheckpointer(new TopicPartition("events", 0), [], _metrics, NullLogger.Instance);
        checkpointer.Update(10, DateTime.UtcNow);
        await checkpointer.FlushAsync(CancellationToken.None);
        Assert.Equal(-1, checkpointer.CommittedOffset);
        Assert.Equal(10, checkpointer.DeliveredOffset);
    }

    [Fact]
    public async Task A_new_ownership_forgets_what_an_earlier_one_delivered()
    {
        var tp = new TopicPartition("events", 1);
        using var consumer = Consumer("owners");
        var partition = new StreamGrains.Kafka.Providers.KafkaPartitionContext(tp, new KafkaCheckpointer(tp, [], _metrics, NullLogger.Instance));
        partition.Checkpointer.Bind(consumer);
        partition.ReadUpTo = 500;
        partition.Checkpointer.Update(500, DateTime.UtcNow);

        // The partition went to another silo and comes back: nothing read or delivered before may count now.
        partition.StartOwnership();
        Assert.Equal(-1, partition.ReadUpTo);
        Assert.Equal(-1, partition.Checkpointer.DeliveredOffset);
        await partition.Checkpointer.FlushAsync(CancellationToken.None);
        Assert.Equal(-1, await partition.Checkpointer.Load());
    }

    private sealed class Gate(Func<long> limit) : IKafkaCommitGate
    {
        public ValueTask<long> GetCommittableOffsetAsync(TopicPartition partition, long deliveredOffset, CancellationToken cancellationToken) =>
            ValueTask.FromResult(Math.Min(deliveredOffset, limit()));
    }
}
