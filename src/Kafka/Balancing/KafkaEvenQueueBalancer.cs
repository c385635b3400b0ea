using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace StreamGrains.Kafka.Balancing;

/// <summary>
/// Spreads a Kafka stream provider's queues (one per partition) evenly over the active silos: with N silos each reads
/// floor(P/N) or ceil(P/N) of P partitions (<see cref="KafkaPartitionAssignment"/>), and the shares are computed again
/// whenever a silo joins or leaves. Orleans' consistent-ring balancer hands out ranges of a hash ring instead, which
/// leaves shares such as 1, 2 and 5 of 8 on three silos.
/// </summary>
public sealed partial class KafkaEvenQueueBalancer : QueueBalancerBase
{
    private readonly IClusterMembershipService _membership;
    private List<QueueId> _queues = [];
    private volatile List<QueueId> _mine = [];
    private string _silos = string.Empty;

    /// <summary>Creates the balancer (the provider does, per provider).</summary>
    /// <param name="services">The silo's services.</param>
    /// <param name="logger">The logger.</param>
    public KafkaEvenQueueBalancer(IServiceProvider services, ILogger<KafkaEvenQueueBalancer> logger)
        : base(services, logger)
    {
        ArgumentNullException.ThrowIfNull(services);
        _membership = services.GetRequiredService<IClusterMembershipService>();
    }

    /// <inheritdoc />
    public override Task Initialize(IStreamQueueMapper queueMapper)
    {
        ArgumentNullException.ThrowIfNull(queueMapper);
        _queues = queueMapper.GetAllQueues().ToList();
        var active = _membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToHashSet();
        Recompute(active);
        return base.Initialize(queueMapper);
    }

    /// <inheritdoc />
    public override IEnumerable<QueueId> GetMyQueues() => _mine;

    /// <inheritdoc />
    protected override void OnClusterMembershipChange(HashSet<SiloAddress> activeSilos)
    {
        if (Recompute(activeSilos))
        {
            _ = NotifyListeners();
        }
    }

    private bool Recompute(HashSet<SiloAddress> activeSilos)
    {
        var names = activeSilos.Select(s => s.ToParsableString()).Order(StringComparer.Ordinal).ToList();
        var key = string.Join(';', names);
        if (key == _silos)
        {
            return false;
        }

        _silos = key;
        var me = SiloAddress.ToParsableString();
        var assignment = KafkaPartitionAssignment.Assign(_queues, names, q => q.ToString());
        _mine = assignment.TryGetValue(me, out var mine) ? mine : [];
        LogAssigned(Logger, _mine.Count, _queues.Count, names.Count);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "This silo reads {Mine} of {Partitions} partitions ({Silos} active silos)")]
    private static partial void LogAssigned(ILogger logger, int mine, int partitions, int silos);
}
