using System.Text;

namespace StreamGrains.Kafka.Balancing;

/// <summary>
/// Which silo reads which queue (partition), computed the same on every silo from the same set of active silos: every
/// silo gets floor(P/N) or ceil(P/N) of the P queues, and each queue goes to the silo that ranks it highest
/// (rendezvous hashing) among those with room left, so that a silo joining or leaving moves few queues besides its own.
/// </summary>
public static class KafkaPartitionAssignment
{
    /// <summary>The queues of each silo.</summary>
    /// <typeparam name="TQueue">The queue type.</typeparam>
    /// <param name="queues">Every queue, in a stable order.</param>
    /// <param name="silos">The active silos, by a name stable for their lifetime (e.g. the silo address).</param>
    /// <param name="name">How a queue is named for hashing.</param>
    public static Dictionary<string, List<TQueue>> Assign<TQueue>(IReadOnlyList<TQueue> queues, IReadOnlyCollection<string> silos, Func<TQueue, string> name)
    {
        ArgumentNullException.ThrowIfNull(queues);
        ArgumentNullException.ThrowIfNull(silos);
        ArgumentNullException.ThrowIfNull(name);
        var ordered = silos.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var assignment = ordered.ToDictionary(s => s, _ => new List<TQueue>(), StringComparer.Ordinal);
        if (ordered.Count == 0)
        {
            return assignment;
        }

        var floor = queues.Count / ordered.Count;
        var extra = queues.Count % ordered.Count; // this many silos get one more
        var fullCeilings = 0;
        foreach (var queue in queues)
        {
            var queueName = name(queue);
            foreach (var silo in ordered.OrderByDescending(s => Score(s, queueName)).ThenBy(s => s, StringComparer.Ordinal))
            {
                var count = assignment[silo].Count;
                if (count < floor || (count == floor && fullCeilings < extra))
                {
                    if (count == floor)
                    {
                        fullCeilings++;
                    }

                    assignment[silo].Add(queue);
                    break;
                }
            }
        }

        return assignment;
    }

    /// <summary>The rendezvous score of a (silo, queue) pair: FNV-1a, the same in every process.</summary>
    private static ulong Score(string silo, string queue)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(silo + "|" + queue))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }

        // FNV mixes its last bytes poorly; a final avalanche spreads them (MurmurHash3's fmix64).
        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        hash *= 0xc4ceb9fe1a85ec53UL;
        hash ^= hash >> 33;
        return hash;
    }
}
