using System.Collections.Concurrent;

namespace StreamGrains.Silo.Decisions;

/// <summary>
/// The decisions already in the decisions topic about records this silo is about to read again (a replay after a
/// crash or a handover): by source partition, the (rule, offset) pairs found there. The profile output asks it before
/// publishing a decision; <see cref="DecisionReplayGuard"/> fills it when a partition's reading (re)starts.
/// </summary>
internal sealed class DecisionLedger
{
    private readonly ConcurrentDictionary<int, Published> _partitions = new();

    /// <summary>Decisions skipped because they were published already.</summary>
    public long Skipped => Interlocked.Read(ref _skipped);

    private long _skipped;

    /// <summary>Whether the decision of <paramref name="rule"/> about the record at <paramref name="offset"/> of <paramref name="partition"/> was published already.</summary>
    public bool WasPublished(int partition, long offset, string rule)
    {
        if (!_partitions.TryGetValue(partition, out var published) || offset > published.Highest || !published.Keys.Contains((rule, offset)))
        {
            return false;
        }

        Interlocked.Increment(ref _skipped);
        return true;
    }

    /// <summary>Sets what the decisions topic holds about <paramref name="partition"/> from some offset on.</summary>
    public void Set(int partition, HashSet<(string Rule, long Offset)> keys) =>
        _partitions[partition] = new Published(keys, keys.Count == 0 ? -1 : keys.Max(k => k.Offset));

    private sealed record Published(HashSet<(string Rule, long Offset)> Keys, long Highest);
}
