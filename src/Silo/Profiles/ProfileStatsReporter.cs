using Orleans.Runtime;
using StreamGrains.Kafka.Statistics;
using StreamGrains.Profiles;
using StreamGrains.Silo.Decisions;
using StreamGrains.Statistics;

namespace StreamGrains.Silo.Profiles;

/// <summary>This silo's profile statistics, now and as reported to the cluster every two seconds.</summary>
internal sealed partial class ProfileStatsReporter(
    ProfileMetrics metrics,
    KafkaStreamMetrics kafkaMetrics,
    DecisionLedger ledger,
    ILocalSiloDetails silo,
    IGrainFactory grains,
    TimeProvider time,
    ILogger<ProfileStatsReporter> logger) : BackgroundService
{
    /// <summary>How often each silo reports.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(2);

    /// <summary>This silo's statistics now.</summary>
    public SiloProfileStats Current() => new()
    {
        Silo = silo.SiloAddress.ToParsableString(),
        EventsProcessed = metrics.EventsProcessed,
        DecisionsByRule = metrics.DecisionsByRule,
        DeadLetters = kafkaMetrics.DeadLetteredTotal,
        ActiveProfiles = metrics.ActiveProfiles,
        DecisionLatency = metrics.LatencySketch(),
        ReportedAt = time.GetUtcNow(),
        ReplaysSkipped = metrics.ReplaysSkipped,
        DuplicateDecisionsSuppressed = ledger.Skipped,
    };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await grains.GetGrain<IClusterStatsGrain>(0).Report(Current()).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogReportFailed(logger, ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "This silo's statistics could not be reported to the cluster")]
    private static partial void LogReportFailed(ILogger logger, Exception exception);
}
