namespace StreamGrains.Sketches;

/// <summary>
/// A mergeable quantile sketch with relative accuracy (DDSketch, Masson, Rim and Lee, VLDB 2019): a value x &gt; 0 falls
/// in bucket ⌈log_γ x⌉ with γ = (1 + α) / (1 − α), and a quantile answers the middle of its bucket, 2γ^i / (γ + 1),
/// which is within a factor (1 ± α) of a true value at that rank. Negative values are kept mirrored, zero (and values
/// below <see cref="MinIndexable"/> in size) counted apart. Two sketches with the same accuracy merge exactly, by
/// adding bucket counts, so partial sketches of partitions combine into the sketch of the whole.
/// </summary>
[GenerateSerializer, Alias("sg.ddsketch")]
public sealed class QuantileSketch
{
    /// <summary>Values smaller than this in size count as zero.</summary>
    public const double MinIndexable = 1e-9;

    [Id(0)] private readonly double _accuracy;
    [Id(1)] private readonly Dictionary<int, long> _positive = [];
    [Id(2)] private Dictionary<int, long>? _negative; // most values are positive: made on the first negative one
    [Id(3)] private long _zero;
    [Id(4)] private long _count;
    [Id(5)] private double _min = double.PositiveInfinity;
    [Id(6)] private double _max = double.NegativeInfinity;
    [NonSerialized] private double _gamma;
    [NonSerialized] private double _logGamma;

    /// <summary>Creates an empty sketch.</summary>
    /// <param name="relativeAccuracy">α: the relative error of every quantile, in (0, 1); 0.01 is 1 %.</param>
    public QuantileSketch(double relativeAccuracy = 0.01)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(relativeAccuracy, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(relativeAccuracy, 1);
        _accuracy = relativeAccuracy;
    }

    /// <summary>The relative accuracy α.</summary>
    public double RelativeAccuracy => _accuracy;

    /// <summary>Values added.</summary>
    public long Count => _count;

    /// <summary>Buckets in use (the sketch's size).</summary>
    public int BucketCount => _positive.Count + (_negative?.Count ?? 0) + (_zero > 0 ? 1 : 0);

    private double Gamma => _gamma != 0 ? _gamma : _gamma = (1 + _accuracy) / (1 - _accuracy);

    private double LogGamma => _logGamma != 0 ? _logGamma : _logGamma = Math.Log(Gamma);

    /// <summary>Adds a value.</summary>
    /// <param name="value">A finite value.</param>
    /// <param name="count">How many times.</param>
    public void Add(double value, long count = 1)
    {
        if (!double.IsFinite(value) || count <= 0)
        {
            return;
        }

        if (Math.Abs(value) < MinIndexable)
        {
            _zero += count;
        }
        else
        {
            var store = value > 0 ? _positive : (_negative ??= []);
            var index = IndexOf(Math.Abs(value));
            store[index] = store.GetValueOrDefault(index) + count;
        }

        _count += count;
        _min = Math.Min(_min, value);
        _max = Math.Max(_max, value);
    }

    /// <summary>Adds every value of <paramref name="other"/> (which must have the same accuracy).</summary>
    /// <param name="other">Another sketch.</param>
    public void Merge(QuantileSketch other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other._accuracy != _accuracy)
        {
            throw new ArgumentException($"Sketches of accuracy {other._accuracy} and {_accuracy} do not merge.", nameof(other));
        }

        foreach (var (index, count) in other._positive)
        {
            _positive[index] = _positive.GetValueOrDefault(index) + count;
        }

        if (other._negative is { Count: > 0 } theirs)
        {
            var mine = _negative ??= [];
            foreach (var (index, count) in theirs)
            {
                mine[index] = mine.GetValueOrDefault(index) + count;
            }
        }

        _zero += other._zero;
        _count += other._count;
        _min = Math.Min(_min, other._min);
        _max = Math.Max(_max, other._max);
    }

    /// <summary>
    /// The value at quantile <paramref name="q"/> (0 ≤ q ≤ 1) by the lower rank ⌊q (n − 1)⌋, within a factor 1 ± α;
    /// null when the sketch is empty. Never outside the smallest and largest value added.
    /// </summary>
    /// <param name="q">The quantile.</param>
    public double? Quantile(double q)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(q, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(q, 1);
        if (_count == 0)
        {
            return null;
        }

        var rank = (long)Math.Floor(q * (_count - 1));
        var seen = 0L;
        if (_negative is { Count: > 0 } negative &&
            Walk(negative, descending: true, rank, ref seen) is { } negativeIndex)
        {
            return Clamp(-ValueOf(negativeIndex)); // most negative first: the mirrored store from its highest index
        }

        seen += _zero;
        if (seen > rank)
        {
            return Clamp(0);
        }

        return Clamp(Walk(_positive, descending: false, rank, ref seen) is { } index ? ValueOf(index) : _max);
    }

    /// <summary>
    /// Goes through a store's buckets in index order, adding their counts to <paramref name="seen"/>, and returns the
    /// index of the bucket where the count passes <paramref name="rank"/> (null if none does). Sorts a copy on the
    /// stack (or a pooled array for large stores): a quantile query allocates nothing.
    /// </summary>
    private static int? Walk(Dictionary<int, long> store, bool descending, long rank, ref long seen)
    {
        var n = store.Count;
        int[]? rentedIndexes = null;
        long[]? rentedCounts = null;
        var indexes = n <= 128 ? stackalloc int[n] : (rentedIndexes = System.Buffers.ArrayPool<int>.Shared.Rent(n)).AsSpan(0, n);
        var counts = n <= 128 ? stackalloc long[n] : (rentedCounts = System.Buffers.ArrayPool<long>.Shared.Rent(n)).AsSpan(0, n);
        try
        {
            var i = 0;
            foreach (var (index, count) in store)
            {
                indexes[i] = index;
                counts[i++] = count;
            }

            indexes.Sort(counts);
            for (var k = 0; k < n; k++)
            {
                var at = descending ? n - 1 - k : k;
                seen += counts[at];
                if (seen > rank)
                {
                    return indexes[at];
                }
            }

            return null;
        }
        finally
        {
            if (rentedIndexes is not null)
            {
                System.Buffers.ArrayPool<int>.Shared.Return(rentedIndexes);
                System.Buffers.ArrayPool<long>.Shared.Return(rentedCounts!);
            }
        }
    }

    private double Clamp(double value) => Math.Min(_max, Math.Max(_min, value));

    private int IndexOf(double value) => (int)Math.Ceiling(Math.Log(value) / LogGamma);

    private double ValueOf(int index) => 2 * Math.Pow(Gamma, index) / (Gamma + 1);
}
