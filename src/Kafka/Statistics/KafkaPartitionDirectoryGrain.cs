using Orleans.Runtime;

namespace StreamGrains.Kafka.Statistics;

/// <summary>
/// Where every partition of a Kafka stream provider is read, cluster-wide: each silo reports the partitions it reads
/// every few seconds; reports of silos that stopped reporting or left the cluster are dropped.
/// </summary>
public interface IKafkaPartitionDirectoryGrain : IGrainWithStringKey
{
    /// <summary>A silo's report: the partitions it reads now (an empty list when it reads none or is stopping).</summary>
    /// <param name="silo">The reporting silo's address.</param>
    /// <param name="partitions">Its partitions.</param>
    Task Report(string silo, IReadOnlyList<KafkaPartitionStatus> partitions);

    /// <summary>The partitions read by live silos, with their owners and offsets.</summary>
    Task<IReadOnlyList<KafkaPartitionStatus>> GetPartitions();
}

/// <inheritdoc cref="IKafkaPartitionDirectoryGrain" />
internal sealed class KafkaPartitionDirectoryGrain(IClusterMembershipService membership) : Grain, IKafkaPartitionDirectoryGrain
{
    /// <summary>How long a report counts: three reporting periods.</summary>
    internal static readonly TimeSpan ReportLifetime = KafkaPartitionReporter.Period * 3;

    private readonly Dictionary<string, (DateTime At, IReadOnlyList<KafkaPartitionStatus> Partitions)> _reports = new(StringComparer.Ordinal);

    public Task Report(string silo, IReadOnlyList<KafkaPartitionStatus> partitions)
    {
        _reports[silo] = (DateTime.UtcNow, partitions);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<KafkaPartitionStatus>> GetPartitions()
    {
        var live = membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active)
            .Select(m => m.SiloAddress.ToParsableString())
            .ToHashSet(StringComparer.Ordinal);
        var now = DateTime.UtcNow;
        IReadOnlyList<KafkaPartitionStatus> result = _reports
            .Where(r => live.Contains(r.Key) && now - r.Value.At < ReportLifetime)
            .OrderByDescending(r => r.Value.At)
            .SelectMany(r => r.Value.Partitions)
            .GroupBy(p => (p.Topic, p.Partition))
            .Select(g => g.First()) // the freshest report wins while a partition moves
            .OrderBy(p => p.Topic, StringComparer.Ordinal).ThenBy(p => p.Partition)
            .ToList();
        return Task.FromResult(result);
    }
}
