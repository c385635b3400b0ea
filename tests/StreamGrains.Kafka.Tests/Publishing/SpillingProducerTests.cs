using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
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
        Assert.Equal((8 * 115L, 1024L), (full.PendingBytes, full.MaxBytes));
        Assert.Equal(8 * 115, producer.PendingBytes);
        Assert.Equal(1, await producer.PublishAsync([("k", new byte[50])]));
        Assert.Equal(8 * 115 + 63, producer.PendingBytes);
    }

    public void Dispose() => _directory.Delete(recursive: true);
}
