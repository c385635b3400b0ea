using System.Text;
using Confluent.Kafka;
using StreamGrains.Kafka.Embedded;
using StreamGrains.Kafka.Providers;

namespace StreamGrains.Kafka.Tests.Providers;

public sealed class KafkaPartitionerTests
{
    [Theory]
    // Kafka's own test vectors for Utils.murmur2.
    [InlineData("21", -973932308)]
    [InlineData("foobar", -790332482)]
    [InlineData("a-little-bit-long-string", -985981536)]
    [InlineData("a-little-bit-longer-string", -1486304829)]
    [InlineData("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971)]
    [InlineData("abc", 479470107)]
    public void Murmur2_matches_the_java_client(string key, int expected) =>
        Assert.Equal(expected, KafkaPartitioner.Murmur2(Encoding.UTF8.GetBytes(key)));

    [Fact]
    public async Task Partitions_match_librdkafkas_murmur2_random_partitioner()
    {
        using var cluster = EmbeddedKafkaCluster.Start();
        cluster.CreateTopic("keys", 12);
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, Partitioner = Partitioner.Murmur2Random }).Build();
        for (var i = 0; i < 200; i++)
        {
            var key = $"entity-{i}-{Guid.NewGuid():N}";
            var result = await producer.ProduceAsync("keys", new Message<string, string> { Key = key, Value = "v" });
            Assert.Equal(result.Partition.Value, KafkaPartitioner.PartitionOf(Encoding.UTF8.GetBytes(key), 12));
        }
    }
}
