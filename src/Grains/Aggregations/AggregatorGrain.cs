using Microsoft.Extensions.Logging;
using StreamGrains.Outputs;

namespace StreamGrains.Aggregations;

/// <summary>
/// A shard of an aggregation: holds the <see cref="AggregationState"/> of its keys, merges the partitions' batches,
/// publishes what becomes final (also as time passes and partitions go idle: it looks every second) and answers queries.
/// The logic is in <see cref="AggregationState"/>; the grain holds, delivers and keeps time.
/// </summary>
/// <remarks>
/// State is written to grain storage <see cref="AggregationLimits.CheckpointInterval"/> after it changed, with the offsets
/// it covers; the feed holds Kafka's commits back to what is written (<see cref="AggregationReply.StoredOffset"/>), so
/// with PostgreSQL storage a crash loses nothing and counts nothing twice. Placed near its partition (entity shards), or
/// spread like the partitions (re-keyed shards).
/// </remarks>
[Profiles.PartitionLocalPlacement]
internal sealed partial class AggregatorGrain(
    [PersistentState("aggregation")] IPersistentState<AggregationState> store,
    AggregationBook book,
    IAggregationOutput output,
    AggregationMetrics metrics,
    TimeProvider time,
    ILogger<AggregatorGrain> logger)
    : Grain, IAggregatorGrain
{
    private static readonly TimeSpan ClosePeriod = TimeSpan.FromSeconds(1);

    /// <summary>How long a checkpoint holds the shard waiting for the windows it published to be acknowledged (it tries again at the next tick, a second later).</summary>
    private static readonly TimeSpan AcknowledgementWait = TimeSpan.FromMilliseconds(100);
    private readonly UnacknowledgedOutputs _unacknowledged = new();
    private readonly List<AggregationResult> _emitted = [];
    private readonly Dictionary<int, long> _stored = [];
    private AggregationDefinition? _definition;
    private bool _dirty;
    private DateTimeOffset _changedAt;

    private AggregationState State => store.State;

    private AggregationDefinition Definition => _definition ??= Resolve();

    private long IdleMs => (long)book.Limits.IdleTimeout.TotalMilliseconds;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var partition in State.Partitions.Keys)
        {
            _stored[partition] = State.CoveredOffset(partition); // what storage had (nothing, the first time)
        }

        // Keeps the shard alive: its open windows and sessions live only here, and they close as time passes, with or
        // without calls (a shard collected when idle would lose them).
        this.RegisterGrainTimer(CloseAsync, new GrainTimerCreationOptions(ClosePeriod, ClosePeriod) { KeepAlive = true });
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_dirty)
        {
            await CheckpointAsync(deactivating: true, cancellationToken, shuttingDown: reason.ReasonCode == DeactivationReasonCode.ShuttingDown);
        }
    }

    public Task<AggregationReply> Merge(AggregationBatch batch)
    {
        var reply = State.Merge(Definition, batch, time.GetUtcNow().ToUnixTimeMilliseconds(), IdleMs, _emitted);
        Changed(!reply.Replayed);
        Publish();
        return Task.FromResult(reply with { StoredOffset = _stored.GetValueOrDefault(batch.Partition) });
    }

    public Task<long> GetCoveredOffset(int partition) => Task.FromResult(State.CoveredOffset(partition));

    public Task<IReadOnlyList<AggregateWindow>?> GetWindows(string key, long fromMs, long toMs) =>
        Task.FromResult(Definition.Window.Kind == WindowKind.Session ? null : State.Windows(Definition, key, fromMs, toMs));

    public Task<IReadOnlyList<SessionView>?> GetSessions(string key) =>
        Task.FromResult(Definition.Window.Kind == WindowKind.Session ? State.Sessions(key) : null);

    public Task<long> GetFinalHorizon() =>
        Task.FromResult(State.FinalHorizon(Definition, time.GetUtcNow().ToUnixTimeMilliseconds(), IdleMs));

    public Task<IReadOnlyList<KeyCount>> GetTop(int top, long endAtMost) =>
        Task.FromResult(Definition.Window.Kind == WindowKind.Session ? [] : State.Top(Definition, top, endAtMost));

    private async Task CloseAsync(CancellationToken cancellationToken)
    {
        State.Close(Definition, time.GetUtcNow().ToUnixTimeMilliseconds(), IdleMs, _emitted);
        Changed(_emitted.Count > 0);
        Publish();
        if (_dirty && time.GetUtcNow() - _changedAt >= book.Limits.CheckpointInterval)
        {
            await CheckpointAsync(deactivating: false, cancellationToken);
        }
    }

    private void Changed(bool changed)
    {
        if (changed && !_dirty)
        {
            _dirty = true;
            _changedAt = time.GetUtcNow();
        }
    }

    /// <summary>
    /// Writes the state with the offsets it covers; from then on the feed lets Kafka commit up to them. After a crash the
    /// shard comes back with this state, and the feed skips what it covers: nothing counted twice, nothing lost. The
    /// windows and sessions it published must be safe first (in Kafka, and in the tables with PostgreSQL): the written
    /// state holds them as published and never publishes them again. Until they are, the state stays unwritten, and a
    /// crash rebuilds and publishes them again from the replayed events.
    /// </summary>
    /// <param name="deactivating">
    /// The activation ends: it waits as long as Orleans lets it, then writes anyway (the outputs are still being retried,
    /// and are lost only if the silo dies before they are taken, while not writing would lose the open windows).
    /// </param>
    /// <param name="cancellationToken">Ends the write.</param>
    /// <param name="shuttingDown">The silo stops: with outputs unacknowledged nothing is written, and the next reader replays the events.</param>
    private async Task CheckpointAsync(bool deactivating, CancellationToken cancellationToken, bool shuttingDown = false)
    {
        if (!await _unacknowledged.WaitAsync(deactivating ? Timeout.InfiniteTimeSpan : AcknowledgementWait, cancellationToken))
        {
            if (!deactivating)
            {
                LogAwaitingAcknowledgements(logger, this.GetPrimaryKeyString(), _unacknowledged.Count);
                return; // still dirty: the next tick tries again
            }

            LogDeactivatedUnacknowledged(logger, this.GetPrimaryKeyString(), _unacknowledged.Count, shuttingDown);
            if (shuttingDown)
            {
                return;
            }

            cancellationToken = CancellationToken.None;
        }

        try
        {
            await store.WriteStateAsync(cancellationToken);
            _dirty = false;
            foreach (var partition in State.Partitions.Keys)
            {
                _stored[partition] = State.CoveredOffset(partition);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCheckpointFailed(logger, this.GetPrimaryKeyString(), ex);
        }
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
                output.Final(Definition, result, _unacknowledged);
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

    [LoggerMessage(Level = LogLevel.Debug, Message = "Aggregator {Key}: {Count} published windows or sessions not yet acknowledged; its state is written at a later tick")]
    private static partial void LogAwaitingAcknowledgements(ILogger logger, string key, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Aggregator {Key}: deactivated with {Count} published windows or sessions not yet acknowledged (silo stopping: {ShuttingDown}); stopping, its state stays unwritten and the events are replayed; otherwise it is written, and they are lost only if this silo dies before they are taken")]
    private static partial void LogDeactivatedUnacknowledged(ILogger logger, string key, int count, bool shuttingDown);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Aggregator {Key}: its state could not be written; trying again")]
    private static partial void LogCheckpointFailed(ILogger logger, string key, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Aggregation {Aggregation}: the final window or session of key {Key} starting at {StartMs} could not be published")]
    private static partial void LogPublishFailed(ILogger logger, string aggregation, string key, long startMs, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Aggregator {Key}: no such aggregation is configured on this silo")]
    private static partial void LogUnknown(ILogger logger, string key);
}
