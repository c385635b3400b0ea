using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using StreamGrains.Kafka.Embedded;
using StreamGrains.Kafka.Publishing;
using StreamGrains.Testing;

namespace StreamGrains.Kafka.Tests.Publishing;

/// <summary>The spilling producer with no Kafka to reach: what it takes, where it keeps it, and where it stops taking.</summary>
public sealed class SpillingProducerTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("sg-spilling-");

    [Fact]
    public async Task While_kafka_is_away_records_spill_up_to_the_bound_and_then_a_call_is_refused_whole()
    {
        using var meters = new TestMeterFactory();
        using var producer = new SpillingProducer(
            new SpillingProducerOptions
            {
                Producer = new ProducerConfig { BootstrapServers = "127.0.0.1:9" }, // nothing listens
                Topic = "events",
                SpillDirectory = _directory.FullName,
                PublishTimeout = TimeSpan.FromMilliseconds(200),
                MaxSpillBytes = 1024,
            },
            meters,
            NullLogger<SpillingProducer>.Instance);
        (string Key, byte[] Value) record = ("key", new byte[100]); // 8 + 4 + 3 + 100 = 115 bytes in the log

        // The first call waits out the timeout and spills; the next ones join the log at once, behind it.
        Assert.Equal(1, await producer.PublishAsync([record]));
        Assert.Equal(115, producer.PendingBytes);
        for (var i = 2; i <= 8; i++)
        {
            Assert.Equal(1, await producer.PublishAsync([record]));
        }

        Assert.Equal(8 * 115, producer.PendingBytes);

        // A ninth would pass 1024 bytes: refused whole, nothing of it in the log; a smaller one still fits.
        var full = await Assert.ThrowsAsync<SpillLogFullException>(() => producer.PublishAsync([record]));
        Assert.Equal((8 * 115L, 1024L), (full.LogBytes, full.MaxBytes));
        Assert.Equal(8 * 115, producer.PendingBytes);
        Assert.Equal(1, await producer.PublishAsync([("k", new byte[50])]));
        Assert.Equal(8 * 115 + 63, producer.PendingBytes);
    }

    [Fact]
    public async Task The_bound_counts_the_file_so_that_posts_arriving_while_the_log_drains_cannot_grow_it_without_end()
    {
        using var cluster = EmbeddedKafkaCluster.Start();
        cluster.CreateTopic("events", 1);
        using var meters = new TestMeterFactory();
        (string Key, byte[] Value) record = ("key", new byte[100]); // 115 bytes in the log
        using var producer = new SpillingProducer(
            new SpillingProducerOptions
            {
                Producer = new ProducerConfig { BootstrapServers = cluster.BootstrapServers },
                Topic = "events",
                SpillDirectory = _directory.FullName,
                PublishTimeout = TimeSpan.FromSeconds(2),
                MaxSpillBytes = 1_000 * 115,
            },
            meters,
            NullLogger<SpillingProducer>.Instance);

        // Kafka away: a thousand records spill, filling the log to its bound exactly.
        cluster.SetBrokerDown(1);
        Assert.Equal(1_000, await producer.PublishAsync(Enumerable.Repeat(record, 1_000).ToList()));
        Assert.Equal(1_000 * 115, producer.PendingBytes);

        // Kafka back: the log is sent a batch at a time (500); part of it is sent, the file is as long as before.
        cluster.SetBrokerUp(1);
        await SendSomeAsync(producer);
        Assert.InRange(producer.PendingBytes, 0, (1_000 * 115) - 115);

        // Room by what is unsent, none by the file: refused whole, until the log is sent and emptied.
        await Assert.ThrowsAsync<SpillLogFullException>(() => producer.PublishAsync([record]));
        while (producer.PendingBytes > 0)
        {
            await SendSomeAsync(producer);
        }

        Assert.Equal(0, await producer.PublishAsync([record])); // straight to Kafka again
    }

    /// <summary>Sends one batch of the log, trying again while the producer reconnects.</summary>
    private static async Task SendSomeAsync(SpillingProducer producer)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                await producer.SendSpilledAsync();
                return;
            }
            catch (ProduceException<string, byte[]>) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    public void Dispose() => _directory.Delete(recursive: true);
}
