using Microsoft.Extensions.Logging;
using StreamGrains.Kafka.Providers;

namespace StreamGrains.Kafka.Statistics;

/// <summary>
/// Reports the partitions this silo reads, for every Kafka stream provider, to the partition directory: every
/// <see cref="Period"/>, and at once when this silo starts or stops reading a partition.
/// </summary>
internal sealed partial class KafkaPartitionReporter(
    KafkaAdapterFactoryRegistry registry,
    IGrainFactory grains,
    ILocalSiloDetails silo,
    ILogger<KafkaPartitionReporter> logger) : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    internal static readonly TimeSpan Period = TimeSpan.FromSeconds(2);

    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _changed = new(0, 1);
    private Task? _loop;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(KafkaPartitionReporter), ServiceLifecycleStage.Active, Start, Stop);

    private Task Start(CancellationToken cancellationToken)
    {
        registry.OwnershipChanged += OnOwnershipChanged;
        _loop = Task.Run(() => LoopAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private void OnOwnershipChanged()
    {
        try
        {
            _changed.Release();
        }
        catch (SemaphoreFullException)
        {
            // A report is due already.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task Stop(CancellationToken cancellationToken)
    {
        registry.OwnershipChanged -= OnOwnershipChanged;
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        // Say we read nothing any more, so the directory does not wait for the report to expire.
        await ReportAsync(empty: true).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _changed.Dispose();
    }

    private async Task LoopAsync(CancellationToken stopping)
    {
        do
        {
            await ReportAsync(empty: false).ConfigureAwait(false);
        }
        while (await WaitAsync(stopping).ConfigureAwait(false));
    }

    /// <summary>Waits for the next period or an ownership change; false once stopping.</summary>
    private async Task<bool> WaitAsync(CancellationToken stopping)
    {
        try
        {
            await _changed.WaitAsync(Period, stopping).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task ReportAsync(bool empty)
    {
        var me = silo.SiloAddress.ToParsableString();
        foreach (var factory in registry.All)
        {
            try
            {
                IReadOnlyList<KafkaPartitionStatus> mine = empty ? [] : factory.Partitions.Where(p => p.Owner == me).ToList();
                await grains.GetGrain<IKafkaPartitionDirectoryGrain>(factory.Name).Report(me, mine).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogReportFailed(logger, ex, factory.Name);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not report the partitions of Kafka stream provider {Provider}")]
    private static partial void LogReportFailed(ILogger logger, Exception exception, string provider);
}
