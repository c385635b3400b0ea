using StreamGrains.Kafka.Providers;

namespace StreamGrains.Kafka.Tests.Providers;

public sealed class KafkaSequenceTokenTests
{
    [Fact]
    public void Tokens_are_ordered_by_partition_then_offset_consistently_with_equality()
    {
        var tokens = new[]
        {
            new KafkaSequenceToken(1, 5),
            new KafkaSequenceToken(0, 9),
            KafkaSequenceToken.Range(0, 3, 7),
            new KafkaSequenceToken(0, 7),
            new KafkaSequenceToken(1, 0),
        };

        var sorted = tokens.Order().ToList();
        Assert.Equal([(0, 7L), (0, 7L), (0, 9L), (1, 0L), (1, 5L)], sorted.Select(t => (t.Partition, t.Offset)));
        foreach (var a in tokens)
        {
            foreach (var b in tokens)
            {
                Assert.Equal(a.CompareTo(b) == 0, a.Equals(b));
                Assert.Equal(Math.Sign(a.CompareTo(b)), -Math.Sign(b.CompareTo(a)));
                if (a.Equals(b))
                {
                    Assert.Equal(a.GetHashCode(), b.GetHashCode());
                }
            }
        }
    }

    [Fact]
    public void A_token_of_another_partition_is_never_taken_for_a_replay()
    {
        var last = new KafkaSequenceToken(3, 100);
        Assert.True(new KafkaSequenceToken(3, 101).IsAfter(last));
        Assert.False(new KafkaSequenceToken(3, 100).IsAfter(last));
        Assert.False(new KafkaSequenceToken(3, 99).IsAfter(last));
        Assert.True(new KafkaSequenceToken(1, 5).IsAfter(last)); // the key moved to another partition
        Assert.True(new KafkaSequenceToken(7, 5).IsAfter(last));
        Assert.True(new KafkaSequenceToken(0, 0).IsAfter(null));
    }

    [Fact]
    public void A_range_names_its_first_and_last_offsets_and_refuses_a_reversed_range()
    {
        var range = KafkaSequenceToken.Range(2, 10, 20);
        Assert.Equal(10, range.FirstOffset);
        Assert.Equal(20, range.Offset);
        Assert.Equal("[partition 2, offsets 10..20]", range.ToString());
        Assert.Equal("[partition 2, offset 20]", new KafkaSequenceToken(2, 20).ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => KafkaSequenceToken.Range(2, 20, 10));
    }
}
