using System.IO.Hashing;
using System.Text;

namespace StreamGrains.Sketches;

/// <summary>
/// A mergeable distinct-count sketch (HyperLogLog, Flajolet et al. 2007, with 64-bit hashes so that no large-range
/// correction is needed): 2^<see cref="Precision"/> registers keep the longest run of leading zeros seen among the
/// hashes that fall in them, and the count is estimated from their harmonic mean (linear counting while many registers
/// are still empty). Its standard error is 1.04 / √(2^14) ≈ 0.8 %.
/// </summary>
/// <remarks>
/// A sketch starts sparse: up to <see cref="SparseLimit"/> distinct hashes are kept as they are and counted exactly, so a
/// window of a few entities costs a few dozen bytes rather than 16 KiB of registers. Two sketches merge exactly (union of
/// hashes, or register-wise maximum), in any order and grouping, so partial sketches of partitions combine into the sketch
/// of the whole and a replayed merge gives the same state.
/// </remarks>
[GenerateSerializer, Alias("sg.hll")]
public sealed class HyperLogLog
{
    /// <summary>Bits of the hash that choose a register.</summary>
    public const int Precision = 14;

    /// <summary>Distinct hashes kept exactly before the sketch turns to registers.</summary>
    public const int SparseLimit = 256;

    private const int Registers = 1 << Precision;

    [Id(0)] private HashSet<ulong>? _sparse = [];
    [Id(1)] private byte[]? _registers;

    /// <summary>Whether the count is still exact (few distinct items).</summary>
    public bool IsExact => _registers is null;

    /// <summary>Adds an item.</summary>
    /// <param name="item">The item, e.g. an entity id.</param>
    public void Add(string item)
    {
        ArgumentNullException.ThrowIfNull(item);
        AddHash(Hash(item));
    }

    /// <summary>Adds every item of <paramref name="other"/>.</summary>
    /// <param name="other">Another sketch.</param>
    public void Merge(HyperLogLog other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other._registers is { } theirs)
        {
            var mine = ToDense();
            for (var i = 0; i < Registers; i++)
            {
                mine[i] = Math.Max(mine[i], theirs[i]);
            }
        }
        else
        {
            foreach (var hash in other._sparse!)
            {
                AddHash(hash);
            }
        }
    }

    /// <summary>The number of distinct items added: exact while sparse, else estimated.</summary>
    public long Estimate()
    {
        if (_registers is not { } registers)
        {
            return _sparse!.Count;
        }

        double sum = 0;
        var zeros = 0;
        foreach (var register in registers)
        {
            sum += Math.ScaleB(1.0, -register);
            zeros += register == 0 ? 1 : 0;
        }

        const double m = Registers;
        var alpha = 0.7213 / (1 + 1.079 / m);
        var estimate = alpha * m * m / sum;
        if (estimate <= 2.5 * m && zeros > 0)
        {
            estimate = m * Math.Log(m / zeros); // linear counting, better while registers are still empty
        }

        return (long)Math.Round(estimate);
    }

    /// <summary>The 64-bit hash the sketch keeps of an item (XxHash64 of its UTF-8 bytes).</summary>
    /// <param name="item">The item.</param>
    public static ulong Hash(string item)
    {
        ArgumentNullException.ThrowIfNull(item);
        var length = Encoding.UTF8.GetMaxByteCount(item.Length);
        Span<byte> bytes = length <= 512 ? stackalloc byte[length] : new byte[length];
        var written = Encoding.UTF8.GetBytes(item, bytes);
        return XxHash64.HashToUInt64(bytes[..written]);
    }

    private void AddHash(ulong hash)
    {
        if (_registers is null)
        {
            _sparse!.Add(hash);
            if (_sparse.Count <= SparseLimit)
            {
                return;
            }

            ToDense();
            return;
        }

        Set(_registers, hash);
    }

    private byte[] ToDense()
    {
        if (_registers is { } registers)
        {
            return registers;
        }

        registers = new byte[Registers];
        foreach (var hash in _sparse!)
        {
            Set(registers, hash);
        }

        _registers = registers;
        _sparse = null;
        return registers;
    }

    private static void Set(byte[] registers, ulong hash)
    {
        var index = (int)(hash >> (64 - Precision));
        // The rank of the remaining bits: leading zeros + 1, with a sentinel bit so that all-zero bits rank 64 - p + 1.
        var rest = (hash << Precision) | (1UL << (Precision - 1));
        var rank = (byte)(System.Numerics.BitOperations.LeadingZeroCount(rest) + 1);
        if (rank > registers[index])
        {
            registers[index] = rank;
        }
    }
}
