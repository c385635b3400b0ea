using StreamGrains.Events;
using StreamGrains.Sketches;

namespace StreamGrains.Aggregations.Windows;

/// <summary>
/// What a window knows of its events: how many, the sum, least, greatest and mean of their values, how many distinct
/// entities (<see cref="HyperLogLog"/>) and the quantiles of their values (<see cref="QuantileSketch"/>). Mergeable: the
/// aggregate of partitions' partial aggregates is the aggregate of all their events, whatever the order and grouping of
/// the merges. The sum is kept in <see cref="decimal"/> (exact for the values events carry, so merges in any order give
/// the same sum) and falls back to double only for values beyond its range.
/// </summary>
[GenerateSerializer, Alias("sg.window-aggregate")]
public sealed class WindowAggregate
{
    /// <summary>The relative accuracy of the quantiles.</summary>
    public const double QuantileAccuracy = 0.01;

    [Id(0)] private long _count;
    [Id(1)] private long _valueCount;
    [Id(2)] private decimal _sum;
    [Id(3)] private double _doubleSum;
    [Id(4)] private bool _sumOverflowed;
    [Id(5)] private double _min = double.PositiveInfinity;
    [Id(6)] private double _max = double.NegativeInfinity;
    [Id(7)] private readonly HyperLogLog _entities = new();
    [Id(8)] private readonly QuantileSketch _values = new(QuantileAccuracy);

    /// <summary>Events taken.</summary>
    public long Count => _count;

    /// <summary>Events taken that had a value.</summary>
    public long ValueCount => _valueCount;

    /// <summary>The sum of the values (0 when none).</summary>
    public double Sum => _sumOverflowed ? _doubleSum : (double)_sum;

    /// <summary>The least value, or null.</summary>
    public double? Min => _valueCount > 0 ? _min : null;

    /// <summary>The greatest value, or null.</summary>
    public double? Max => _valueCount > 0 ? _max : null;

    /// <summary>The mean value, or null.</summary>
    public double? Average => _valueCount > 0 ? Sum / _valueCount : null;

    /// <summary>Distinct entities (exact up to <see cref="HyperLogLog.SparseLimit"/>, then within about 1 %).</summary>
    public long DistinctEntities => _entities.Estimate();

    /// <summary>The value at quantile <paramref name="q"/>, within 1 %, or null.</summary>
    /// <param name="q">The quantile.</param>
    public double? Quantile(double q) => _values.Quantile(q);

    /// <summary>Takes one event.</summary>
    /// <param name="evt">The event.</param>
    public void Add(StreamEvent evt)
    {
        ArgumentNullException.ThrowIfNull(evt);
        _count++;
        _entities.Add(evt.Entity);
        if (evt.Value is { } value && double.IsFinite(value))
        {
            _valueCount++;
            AddToSum(value);
            _min = Math.Min(_min, value);
            _max = Math.Max(_max, value);
            _values.Add(value);
        }
    }

    /// <summary>Takes every event of <paramref name="other"/>.</summary>
    /// <param name="other">Another window's aggregate.</param>
    public void Merge(WindowAggregate other)
    {
        ArgumentNullException.ThrowIfNull(other);
        _count += other._count;
        _valueCount += other._valueCount;
        if (other._sumOverflowed)
        {
            Overflow();
            _doubleSum += other._doubleSum;
        }
        else if (_sumOverflowed)
        {
            _doubleSum += (double)other._sum;
        }
        else
        {
            try
            {
                _sum += other._sum;
            }
            catch (OverflowException)
            {
                Overflow();
                _doubleSum += (double)other._sum;
            }
        }

        _min = Math.Min(_min, other._min);
        _max = Math.Max(_max, other._max);
        _entities.Merge(other._entities);
        _values.Merge(other._values);
    }

    private void AddToSum(double value)
    {
        if (!_sumOverflowed)
        {
            try
            {
                _sum += (decimal)value;
                return;
            }
            catch (OverflowException)
            {
                Overflow();
            }
        }

        _doubleSum += value;
    }

    private void Overflow()
    {
        if (!_sumOverflowed)
        {
            _sumOverflowed = true;
            _doubleSum = (double)_sum;
        }
    }
}
