using System.Text;
using Confluent.Kafka;
using Orleans.Streams;
using Microsoft.Extensions.Logging.Abstractions;
using StreamGrains.Kafka.Checkpointing;
using StreamGrains.Kafka.DataAdapters;
using StreamGrains.Kafka.Embedded;
using StreamGrains.Kafka.Providers;
using StreamGrains.Kafka.Statistics;

namespace StreamGrains.Kafka.Tests.Providers;

/// <summary>The receiver in its real order against the embedded broker: what it hands over, and when.</summary>
public sealed class KafkaAdapterReceiverTests : IDisposable
{
    private readonly EmbeddedKafkaCluster _kafka = EmbeddedKafkaCluster.Start();
    private readonly TestMeterFactory _meters = new();
    private readonly List<KafkaTopicReader> _readers = [];

    public KafkaAdapterReceiverTests()
    {
        _kafka.CreateTopic("events", 1);
        _kafka.CreateTopic("events.dlq", 1);
    }

    public void Dispose()
    {
        _readers.ForEach(r => r.Dispose());
        _meters.Dispose();
        _kafka.Dispose();
    }

    [Fact]
    public async Task A_read_of_dead_letters_only_is_handed_over_only_when_the_read_before_it_reached_the_cache()
    {
        Produce("good-0", "good-1", "bad-2", "bad-3");
        var (receiver, partition, cache) = Start(maxBatch: 2);

        var first = await ReadAsync(receiver);
        Assert.Equal(2, Assert.Single(first).GetEvents<KafkaRecord>().Count());
        Assert.Equal(-1, partition.HandedOverUpTo); // read, but not in the cache yet

        // The agent drops that read (it stopped on the way): the next read, all dead-lettered, must not hand over.
        Assert.Empty(await ReadUntilDeadLetteredAsync(receiver, partition, 2));
        Assert.Equal(-1, partition.HandedOverUpTo);
        cache.UpdateDeliveryProgress(null, DateTime.UtcNow);
        Assert.Equal(-1, partition.Checkpointer.DeliveredOffset);
        await receiver.Shutdown(TimeSpan.FromSeconds(5), CancellationToken.None);
    }

    [Fact]
    public async Task A_read_of_dead_letters_only_after_a_cached_read_hands_over_its_end()
    {
        Produce("good-0", "good-1", "bad-2", "bad-3");
        var (receiver, partition, cache) = Start(maxBatch: 2);

        cache.AddToCache(await ReadAsync(receiver)); // as the agent does
        Assert.Equal(2, partition.HandedOverUpTo);
        Assert.Empty(await ReadUntilDeadLetteredAsync(receiver, partition, 2));
        Assert.Equal(4, partition.HandedOverUpTo);
        await receiver.Shutdown(TimeSpan.FromSeconds(5), CancellationToken.None);
    }

    private void Produce(params string[] values)
    {
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers }).Build();
        foreach (var value in values)
        {
            producer.Produce("events", new Message<string, string> { Key = "k", Value = value });
        }

        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(10)));
    }

    /// <summary>Starts a receiver and waits until the topic reader buffered all <paramref name="records"/> records, so that reads are deterministic.</summary>
    private (KafkaAdapterReceiver Receiver, KafkaPartitionContext Partition, KafkaQueueCache Cache) Start(int maxBatch, int records = 4)
    {
        var options = new KafkaStreamOptions { BootstrapServers = _kafka.BootstrapServers, ConsumerGroup = $"g-{Guid.NewGuid():N}", MaxBatchSize = maxBatch }.AddTopic("events", 1);
        var metrics = new KafkaStreamMetrics(_meters);
        var tp = new TopicPartition("events", 0);
        var partition = new KafkaPartitionContext(tp, new KafkaCheckpointer(tp, Array.Empty<IKafkaCommitGate>(), metrics, NullLogger.Instance));
        var cache = new KafkaQueueCache(partition, new KafkaQueueCacheOptions(), metrics, TimeProvider.System, NullLogger.Instance);
        var adapter = new RejectingAdapter();
        var producer = new ProducerBuilder<byte[]?, byte[]?>(KafkaClientConfigs.Producer(options, "test-dlq")).Build();
        var deadLetters = new KafkaDeadLetterPublisher(producer, options, adapter, new KafkaRecordFetcher(options, "test-fetch"), metrics, NullLogger<KafkaDeadLetterPublisher>.Instance);
        var reader = new KafkaTopicReader(options, "events", "test-reader", NullLogger.Instance);
        _readers.Add(reader);
        var receiver = new KafkaAdapterReceiver(partition, new KafkaTopicLayout("events", "events", 1, true), reader, options, adapter, deadLetters, [], metrics, "test-silo", NullLogger<KafkaAdapterReceiver>.Instance);
        receiver.Initialize(TimeSpan.FromSeconds(5), CancellationToken.None).GetAwaiter().GetResult();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (reader.BufferedRecords(0) < records && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }

        Assert.Equal(records, reader.BufferedRecords(0));
        return (receiver, partition, cache);
    }

    private static async Task<IList<IBatchContainer>> ReadAsync(KafkaAdapterReceiver receiver)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            var read = await receiver.GetQueueMessagesAsync(-1, CancellationToken.None);
            if (read.Count > 0)
            {
                return read;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException("nothing was read");
    }

    /// <summary>Reads until the read position passes <paramref name="count"/> more records that all go to the dead-letter topic.</summary>
    private static async Task<IList<IBatchContainer>> ReadUntilDeadLetteredAsync(KafkaAdapterReceiver receiver, KafkaPartitionContext partition, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        var all = new List<IBatchContainer>();
        var read = 0;
        while (read < count && DateTime.UtcNow < deadline)
        {
            var before = partition.ReadUpTo;
            all.AddRange(await receiver.GetQueueMessagesAsync(-1, CancellationToken.None));
            read += (int)(partition.ReadUpTo - before);
            await Task.Delay(20);
        }

        Assert.Equal(count, read);
        return all;
    }

    /// <summary>Rejects records whose value starts with "bad".</summary>
    private sealed class RejectingAdapter : IKafkaDataAdapter
    {
        private readonly KafkaRawDataAdapter _raw = new();

        public KafkaDecodeResult Decode(KafkaInboundRecord record) =>
            Encoding.UTF8.GetString(record.Value ?? []).StartsWith("bad", StringComparison.Ordinal)
                ? KafkaDecodeResult.Reject("bad", "a bad record")
                : _raw.Decode(record);

        public byte[] Encode(string streamKey, object evt) => _raw.Encode(streamKey, evt);
    }
}
