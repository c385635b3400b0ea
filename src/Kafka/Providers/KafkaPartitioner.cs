namespace StreamGrains.Kafka.Providers;

/// <summary>
/// The Java producer's default partitioner for keyed records (also Kafka Streams', kafka-python's and librdkafka's
/// <c>murmur2_random</c>): <c>(murmur2(key) &amp; 0x7fffffff) % partitions</c>.
/// </summary>
public static class KafkaPartitioner
{
    /// <summary>The partition a key lands on.</summary>
    /// <param name="key">The key bytes.</param>
    /// <param name="partitions">The topic's partition count.</param>
    public static int PartitionOf(ReadOnlySpan<byte> key, int partitions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        return (int)((uint)(Murmur2(key) & 0x7fffffff) % (uint)partitions);
    }

    /// <summary>Kafka's 32-bit murmur2 hash (seed 0x9747b28c).</summary>
    /// <param name="data">The bytes to hash.</param>
    public static int Murmur2(ReadOnlySpan<byte> data)
    {
        const uint m = 0x5bd1e995;
        const int r = 24;
        var length = data.Length;
        var h = 0x9747b28cu ^ (uint)length;
        var blocks = length / 4;
        for (var i = 0; i < blocks; i++)
        {
            var k = (uint)(data[i * 4] | (data[(i * 4) + 1] << 8) | (data[(i * 4) + 2] << 16) | (data[(i * 4) + 3] << 24));
            k *= m;
            k ^= k >> r;
            k *= m;
            h *= m;
            h ^= k;
        }

        var tail = length & ~3;
        switch (length % 4)
        {
            case 3:
                h ^= (uint)data[tail + 2] << 16;
                goto case 2;
            case 2:
                h ^= (uint)data[tail + 1] << 8;
                goto case 1;
            case 1:
                h ^= data[tail];
                h *= m;
                break;
        }

        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return unchecked((int)h);
    }
}
