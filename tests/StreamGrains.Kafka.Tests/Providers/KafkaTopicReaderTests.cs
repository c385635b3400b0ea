using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using StreamGrains.Kafka.Checkpointing;
using StreamGrains.Kafka.Embedded;
using StreamGrains.Kafka.Providers;
using StreamGrains.Kafka.Statistics;

namespace StreamGrains.Kafka.Tests.Providers;

/// <summary>One consumer for a silo's partitions of a topic: buffers, pauses, rewinds and ownerships.</summary>
public sealed class KafkaTopicReaderTests : IDisposable
{
    private readonly EmbeddedKafkaCluster _kafka = EmbeddedKafkaCluster.Start();
    private readonly TestMeterFactory _meters = new();
    private readonly KafkaTopicReader _reader;
    private readonly KafkaPartitionContext _partition;

    public KafkaTopicReaderTests()
    {
        _kafka.CreateTopic("events", 1);
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers, LingerMs = 5 }).Build())
        {
            for (var i = 0; i < 12_000; i++)
            {
                producer.Produce("events", new Message<string, string> { Key = "k", Value = $"v{i}" });
            }

            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }

        var options = new KafkaStreamOptions { BootstrapServers = _kafka.BootstrapServers, ConsumerGroup = $"g-{Guid.NewGuid():N}" }.AddTopic("events", 1);
        options.ConsumerProperties["fetch.wait.max.ms"] = "50";
        _reader = new KafkaTopicReader(options, "events", "test-reader", NullLogger.Instance);
        var tp = new TopicPartition("events", 0);
        _partition = new KafkaPartitionContext(tp, new KafkaCheckpointer(tp, Array.Empty<IKafkaCommitGate>(), new KafkaStreamMetrics(_meters), NullLogger.Instance));
    }

    public void Dispose()
    {
        _reader.Dispose();
        _meters.Dispose();
        _kafka.Dispose();
    }

    private void WaitForBuffered(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (_reader.BufferedRecords(0) < count && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }

        Assert.True(_reader.BufferedRecords(0) >= count, $"{_reader.BufferedRecords(0)} of {count} records buffered");
    }

    [Fact]
    public void A_full_partition_pauses_and_resumes_once_its_receiver_took_half()
    {
        var reading = _reader.Add(_partition);
        WaitForBuffered(KafkaTopicReader.BufferRecords);
        Thread.Sleep(500);
        Assert.Equal(KafkaTopicReader.BufferRecords, _reader.BufferedRecords(0)); // paused at the bound

        var taken = _reader.Take(reading, 6_000, long.MaxValue);
        Assert.Equal(Enumerable.Range(0, 6_000).Select(i => (long)i), taken.Select(r => r.Offset.Value));
        WaitForBuffered(6_000); // resumed: the last 2,000 records came in
        var rest = _reader.Take(reading, 10_000, long.MaxValue);
        Assert.Equal(Enumerable.Range(6_000, 6_000).Select(i => (long)i), rest.Select(r => r.Offset.Value));
    }

    [Fact]
    public void A_rewind_drops_what_was_buffered_and_reads_again_from_the_offset_even_when_paused()
    {
        var reading = _reader.Add(_partition);
        WaitForBuffered(KafkaTopicReader.BufferRecords); // paused
        Assert.Equal(100, _reader.Take(reading, 100, long.MaxValue).Count);

        _reader.Rewind(reading, 42);
        WaitForBuffered(1);
        var again = _reader.Take(reading, 10, long.MaxValue);
        Assert.Equal(Enumerable.Range(42, 10).Select(i => (long)i), again.Select(r => r.Offset.Value));
        WaitForBuffered(2_000); // and it keeps flowing, though it was paused before the rewind
        Assert.Equal(52, _reader.Take(reading, 1, long.MaxValue).Single().Offset.Value);
    }

    [Fact]
    public void A_new_ownership_starts_from_the_group_and_an_earlier_ones_handle_touches_nothing_of_it()
    {
        var first = _reader.Add(_partition);
        WaitForBuffered(KafkaTopicReader.BufferRecords); // paused when it goes
        _reader.Remove(first);
        Assert.Empty(_reader.Take(first, 10, long.MaxValue));

        var second = _reader.Add(_partition);
        WaitForBuffered(10);
        _reader.Rewind(first, 11_000); // a late call of the earlier owner
        _reader.Remove(first);
        Assert.Empty(_reader.Take(first, 10, long.MaxValue));
        var taken = _reader.Take(second, 10, long.MaxValue);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), taken.Select(r => r.Offset.Value)); // nothing committed: from the start
    }
}
