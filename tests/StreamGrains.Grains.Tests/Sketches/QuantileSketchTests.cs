using CsCheck;
using StreamGrains.Sketches;

namespace StreamGrains.Grains.Tests.Sketches;

public sealed class QuantileSketchTests
{
    private static readonly double[] Quantiles = [0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1];

    [Fact]
    public void Every_quantile_is_within_one_percent_of_the_exact_value_at_its_rank()
    {
        Gen.Double[0.001, 1e6].Array[1, 2_000].Sample(values => AssertAccurate(values, Sketch(values)), iter: 200);
    }

    [Fact]
    public void Skewed_negative_and_zero_values_are_within_one_percent_too()
    {
        var random = new Random(7);
        var values = Enumerable.Range(0, 100_000).Select(_ => Math.Exp(random.NextDouble() * 12) * (random.Next(10) == 0 ? -1 : 1)).ToList();
        values.AddRange(Enumerable.Repeat(0.0, 500));
        AssertAccurate(values.ToArray(), Sketch(values));
    }

    [Fact]
    public void Merged_sketches_answer_exactly_as_one_sketch_of_everything()
    {
        Gen.Double[-1000, 1000].Array[0, 300].Array[1, 8].Sample(parts =>
        {
            var merged = new QuantileSketch();
            foreach (var part in parts)
            {
                merged.Merge(Sketch(part));
            }

            var whole = Sketch(parts.SelectMany(p => p));
            Assert.Equal(whole.Count, merged.Count);
            foreach (var q in Quantiles)
            {
                Assert.Equal(whole.Quantile(q), merged.Quantile(q));
            }
        });
    }

    [Fact]
    public void An_empty_sketch_has_no_quantile_and_sketches_of_different_accuracy_do_not_merge()
    {
        Assert.Null(new QuantileSketch().Quantile(0.5));
        Assert.Throws<ArgumentException>(() => new QuantileSketch(0.01).Merge(new QuantileSketch(0.02)));
    }

    [Fact]
    public void Stays_small_however_many_values()
    {
        var sketch = new QuantileSketch();
        for (var i = 1; i <= 1_000_000; i++)
        {
            sketch.Add(i * 0.37);
        }

        Assert.True(sketch.BucketCount < 1_000, $"{sketch.BucketCount} buckets");
    }

    private static QuantileSketch Sketch(IEnumerable<double> values)
    {
        var sketch = new QuantileSketch(0.01);
        foreach (var value in values)
        {
            sketch.Add(value);
        }

        return sketch;
    }

    private static void AssertAccurate(double[] values, QuantileSketch sketch)
    {
        var sorted = values.Order().ToArray();
        foreach (var q in Quantiles)
        {
            var exact = sorted[(int)Math.Floor(q * (sorted.Length - 1))];
            var estimate = sketch.Quantile(q)!.Value;
            Assert.True(Math.Abs(estimate - exact) <= (0.01 * Math.Abs(exact)) + 1e-9, $"q{q}: {estimate} vs exact {exact}");
        }
    }
}
