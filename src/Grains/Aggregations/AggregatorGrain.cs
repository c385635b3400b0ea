using Microsoft.Extensions.Logging;

namespace StreamGrains.Aggregations;

/// <summary>
/// A shard of an aggregation: holds the <see cref="AggregationState"/> of its keys, merges the partitions' batches,
/// publishes what becomes final (also as time passes and partitions go idle: it looks every second) and answers queries.
/// The logic is in <see cref="AggregationState"/>; the grain holds, delivers and keeps time.
/// </summary>
/// <remarks>
/// State is kept in memory: after a crash, the windows it held are rebuilt only as far as Kafka replays records its
/// silo had not committed (see the README). Placed near its partition (entity shards), or spread like the partitions
/// (re-keyed shards).
/// </remarks>
[Profiles.PartitionLocalPlacement]
internal sealed partial class AggregatorGrain(AggregationBook book, IAggregationOutput output, AggregationMetrics metrics, TimeProvider time, ILogger<AggregatorGrain> logger)
    : Grain, IAggregatorGrain
{
    private static readonly TimeSpan ClosePeriod = TimeSpan.FromSeconds(1);
    private readonly AggregationState _state = new();
    private readonly List<AggregationResult> _emitted = [];
    private AggregationDefinition? _definition;

    private AggregationDefinition Definition => _definition ??= Resolve();

    private long IdleMs => (long)book.Limits.IdleTimeout.TotalMilliseconds;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Keeps the shard alive: its open windows and sessions live only here, and they close as time passes, with or
        // without calls (a shard collected when idle would lose them).
        this.RegisterGrainTimer(CloseAsync, new GrainTimerCreationOptions(ClosePeriod, ClosePeriod) { KeepAlive = true });
        return Task.CompletedTask;
    }

    public Task<AggregationReply> Merge(AggregationBatch batch)
    {
        var reply = _state.Merge(Definition, batch, time.GetUtcNow().ToUnixTimeMilliseconds(), IdleMs, _emitted);
        Publish();
        return Task.FromResult(reply);
    }

    public Task<long> GetCoveredOffset(int partition) => Task.FromResult(_state.CoveredOffset(partition));

    public Task<IReadOnlyList<AggregateWindow>?> GetWindows(string key, long fromMs, long toMs) =>
        Task.FromResult(Definition.Window.Kind == WindowKind.Session ? null : _state.Windows(Definition, key, fromMs, toMs));

    public Task<IReadOnlyList<SessionView>?> GetSessions(string key) =>
        Task.FromResult(Definition.Window.Kind == WindowKind.Session ? _state.Sessions(key) : null);

    public Task<IReadOnlyList<KeyCount>> GetTop(int top) =>
        Task.FromResult(Definition.Window.Kind == WindowKind.Session ? [] : _state.Top(Definition, top));

    private Task CloseAsync(CancellationToken cancellationToken)
    {
        _state.Close(Definition, time.GetUtcNow().ToUnixTimeMilliseconds(), IdleMs, _emitted);
        Publish();
        return Task.CompletedTask;
    }

    private void Publish()
    {
        // Off the list first: a result that cannot be published is logged once, never offered again with the next ones.
        var results = _emitted.ToArray();
        _emitted.Clear();
        foreach (var result in results)
        {
            try
            {
                output.Final(Definition, result);
                metrics.WindowEmitted(Definition.Name);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
            {
                LogPublishFailed(logger, Definition.Name, result.Key, result.StartMs, ex);
            }
        }
    }

    private AggregationDefinition Resolve()
    {
        var key = this.GetPrimaryKeyString();
        var name = key[..Math.Max(0, key.LastIndexOf('/'))];
        if (book.ByName.TryGetValue(name, out var definition))
        {
            return definition;
        }

        LogUnknown(logger, key);
        throw new InvalidOperationException($"No aggregation '{name}' is configured on this silo.");
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Aggregation {Aggregation}: the final window or session of key {Key} starting at {StartMs} could not be published")]
    private static partial void LogPublishFailed(ILogger logger, string aggregation, string key, long startMs, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Aggregator {Key}: no such aggregation is configured on this silo")]
    private static partial void LogUnknown(ILogger logger, string key);
}
