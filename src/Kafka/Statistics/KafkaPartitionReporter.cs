using Microsoft.Extensions.Logging;
using StreamGrains.Kafka.Providers;

namespace StreamGrains.Kafka.Statistics;

/// <summary>Reports the partitions this silo reads, for every Kafka stream provider, to the partition directory.</summary>
internal sealed partial class KafkaPartitionReporter(
    KafkaAdapterFactoryRegistry registry,
    IGrainFactory grains,
    ILocalSiloDetails silo,
    ILogger<KafkaPartitionReporter> logger) : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    internal static readonly TimeSpan Period = TimeSpan.FromSeconds(2);

    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(KafkaPartitionReporter), ServiceLifecycleStage.Active, Start, Stop);

    private Task Start(CancellationToken cancellationToken)
    {
        _loop = Task.Run(() => LoopAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task Stop(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        // Say we read nothing any more, so the directory does not wait for the report to expire.
        await ReportAsync(empty: true).ConfigureAwait(false);
    }

    public void Dispose() => _stopping.Dispose();

    private async Task LoopAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(Period);
        do
        {
            await ReportAsync(empty: false).ConfigureAwait(false);
        }
        while (await WaitAsync(timer, stopping).ConfigureAwait(false));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stopping)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false);
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
