using CsCheck;
using StreamGrains.Profiles;

namespace StreamGrains.Grains.Tests.Profiles;

public sealed class RunningStatisticsTests
{
    [Fact]
    public void Matches_a_two_pass_reference_on_any_sequence()
    {
        Gen.Double[-1e6, 1e6].Array[1, 500].Sample(values =>
        {
            var stats = new RunningStatistics();
            foreach (var value in values)
            {
                stats.Add(value);
            }

            // Two-pass reference, in decimal where it matters.
            var mean = values.Select(v => (decimal)v).Sum() / values.Length;
            var variance = values.Select(v => ((decimal)v - mean) * ((decimal)v - mean)).Sum() / values.Length;
            Assert.Equal(values.Length, stats.Count);
            Assert.Equal((double)values.Select(v => (decimal)v).Sum(), stats.Sum, 1e-6);
            Assert.Equal((double)mean, stats.Mean, Math.Max(1e-9, Math.Abs((double)mean) * 1e-12) + 1e-6);
            Assert.Equal(Math.Sqrt((double)variance), stats.StdDev, 1e-6 * Math.Max(1, Math.Sqrt((double)variance)));
            Assert.Equal(values.Min(), stats.Min);
            Assert.Equal(values.Max(), stats.Max);
        });
    }

    [Fact]
    public void Stays_accurate_with_a_large_offset_where_the_naive_formula_cancels()
    {
        var stats = new RunningStatistics();
        double sum = 0, sumOfSquares = 0;
        foreach (var value in new[] { 1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16 })
        {
            stats.Add(value);
            sum += value;
            sumOfSquares += value * value;
        }

        Assert.Equal(1e9 + 10, stats.Mean);
        Assert.Equal(22.5, stats.Variance, 1e-9); // the reference: deviations -6, -3, 3, 6
        var naive = (sumOfSquares / 4) - ((sum / 4) * (sum / 4));
        Assert.True(Math.Abs(naive - 22.5) > 1, $"E[x²] − E[x]² gives {naive}: the test no longer shows cancellation"); // what the naive formula makes of it
    }

    [Fact]
    public void Is_empty_and_has_no_deviation_until_two_values()
    {
        var stats = new RunningStatistics();
        Assert.Null(stats.Min);
        Assert.Equal(0, stats.StdDev);
        stats.Add(5);
        Assert.Equal(0, stats.StdDev);
        Assert.Equal(0, stats.ZScore(100));
        stats.Add(7);
        Assert.Equal(1, stats.StdDev, 1e-12);
        Assert.Equal(3, stats.ZScore(9), 1e-12);
    }
}
