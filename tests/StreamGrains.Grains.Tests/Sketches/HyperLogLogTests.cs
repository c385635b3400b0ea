using CsCheck;
using StreamGrains.Sketches;

namespace StreamGrains.Grains.Tests.Sketches;

public sealed class HyperLogLogTests
{
    [Fact]
    public void Counts_exactly_while_sparse()
    {
        Gen.Int[0, 1_000].Array[0, HyperLogLog.SparseLimit].Sample(items =>
        {
            var sketch = new HyperLogLog();
            foreach (var item in items)
            {
                sketch.Add($"entity-{item}");
            }

            Assert.Equal(items.Distinct().Count(), sketch.Estimate());
        }, iter: 200);
    }

    [Theory]
    [InlineData(1_000)]
    [InlineData(10_000)]
    [InlineData(100_000)]
    [InlineData(1_000_000)]
    public void Estimates_within_two_percent(int distinct)
    {
        var sketch = new HyperLogLog();
        for (var i = 0; i < distinct; i++)
        {
            sketch.Add($"card-{i}");
            sketch.Add($"card-{i / 2}"); // repeats change nothing
        }

        var error = Math.Abs(sketch.Estimate() - distinct) / (double)distinct;
        Assert.True(error < 0.02, $"{sketch.Estimate()} for {distinct} distinct: {error:P2} off");
    }

    [Fact]
    public void Partial_sketches_merge_into_the_sketch_of_the_whole_in_any_order()
    {
        Gen.Int[0, 5_000].Array[0, 2_000].Array[1, 6].Sample(parts =>
        {
            var whole = new HyperLogLog();
            foreach (var item in parts.SelectMany(p => p))
            {
                whole.Add($"u{item}");
            }

            HyperLogLog Merged(IEnumerable<int[]> order)
            {
                var merged = new HyperLogLog();
                foreach (var part in order)
                {
                    var sketch = new HyperLogLog();
                    foreach (var item in part)
                    {
                        sketch.Add($"u{item}");
                    }

                    merged.Merge(sketch);
                }

                return merged;
            }

            Assert.Equal(whole.Estimate(), Merged(parts).Estimate());
            Assert.Equal(whole.Estimate(), Merged(parts.Reverse()).Estimate());
        }, iter: 100);
    }
}
