namespace StreamGrains.Profiles;

/// <summary>
/// Count, sum, mean, variance, min and max of a sequence of values in one pass: Welford's update for the mean and the
/// sum of squared deviations (no catastrophic cancellation), Neumaier's compensated summation for the sum.
/// </summary>
[GenerateSerializer, Alias("sg.stats")]
public sealed class RunningStatistics
{
    [Id(0)] private long _count;
    [Id(1)] private double _mean;
    [Id(2)] private double _m2;
    [Id(3)] private double _sum;
    [Id(4)] private double _compensation;
    [Id(5)] private double _min = double.PositiveInfinity;
    [Id(6)] private double _max = double.NegativeInfinity;

    /// <summary>Values added.</summary>
    public long Count => _count;

    /// <summary>Their sum.</summary>
    public double Sum => _sum + _compensation;

    /// <summary>Their mean (0 without values).</summary>
    public double Mean => _mean;

    /// <summary>The population variance (0 with fewer than two values).</summary>
    public double Variance => _count < 2 ? 0 : Math.Max(0, _m2 / _count);

    /// <summary>The population standard deviation.</summary>
    public double StdDev => Math.Sqrt(Variance);

    /// <summary>The smallest value, if any.</summary>
    public double? Min => _count == 0 ? null : _min;

    /// <summary>The largest value, if any.</summary>
    public double? Max => _count == 0 ? null : _max;

    /// <summary>Adds a value.</summary>
    /// <param name="value">A finite value.</param>
    public void Add(double value)
    {
        _count++;
        var delta = value - _mean;
        _mean += delta / _count;
        _m2 += delta * (value - _mean);

        var total = _sum + value;
        _compensation += Math.Abs(_sum) >= Math.Abs(value) ? (_sum - total) + value : (value - total) + _sum;
        _sum = total;

        _min = Math.Min(_min, value);
        _max = Math.Max(_max, value);
    }

    /// <summary>How many standard deviations <paramref name="value"/> is from the mean (0 while the deviation is 0).</summary>
    /// <param name="value">A value.</param>
    public double ZScore(double value)
    {
        var stdDev = StdDev;
        return stdDev > 0 ? (value - _mean) / stdDev : 0;
    }
}
