using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;
using Orleans.Streams.Core;
using StreamGrains.Context;
using StreamGrains.Events;
using StreamGrains.Outputs;
using StreamGrains.Rules;

namespace StreamGrains.Profiles;

/// <summary>
/// The profile of one entity. Subscribed implicitly to the <c>events</c> namespace, it takes all of its entity's records
/// of one read in one call, lets the rule book decide about each, keeps the entity's statistics and publishes decisions
/// and enriched events. Placed on the silo that reads its partition; moves there when the partition moves (by its next
/// event, or, quiet, by the silo's sweep of its <see cref="PartitionResidents{TResident}"/>).
/// </summary>
/// <remarks>
/// The grain holds and delivers; the logic is in <see cref="RuleEngine"/> and <see cref="EntityProfile"/>. Events at
/// offsets the state already covers are replays (after a rewind or a crash) and change nothing.
/// </remarks>
[ImplicitStreamSubscription(StreamNames.Events)]
[PartitionLocalPlacement]
internal sealed partial class ProfileGrain : Grain, IProfileGrain, IStreamSubscriptionObserver, IAsyncBatchObserver<StreamEvent>
{
    private readonly IPersistentState<EntityProfile> _state;
    private readonly RuleBook _rules;
    private readonly IProfileOutput _output;
    private readonly IEntityContextSource _contextSource;
    private readonly IStreamPositions _positions;
    private readonly ProfileMetrics _metrics;
    private readonly ProfileCheckpoints _checkpoints;
    private readonly PartitionResidents<IGrainContext> _residents;
    private readonly HashSet<int> _unstoredPartitions = [];
    private readonly UnacknowledgedOutputs _unacknowledged = new();
    private readonly ProfileOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ProfileGrain> _logger;
    private IReadOnlyDictionary<string, AttributeValue> _context = StreamEvent.EmptyAttributes;
    private DateTimeOffset? _contextLoadedAt;
    private DateTimeOffset _contextTriedAt;
    private IGrainTimer? _checkpoint;

    /// <summary>
    /// How long a checkpoint holds the grain waiting for Kafka to acknowledge what it published (acknowledgements take a
    /// few milliseconds; a wait of a second held busy profiles long enough to raise the decision latency's p99 to a second).
    /// </summary>
    private static readonly TimeSpan AcknowledgementWait = TimeSpan.FromMilliseconds(100);

    /// <summary>How soon a checkpoint that found records unacknowledged tries again.</summary>
    private static readonly TimeSpan AcknowledgementRetry = TimeSpan.FromSeconds(1);
    private bool _awaitingAcknowledgements;
    private bool _dirty;
    private int _residentPartition = -1;

    public ProfileGrain(
        [PersistentState("profile")] IPersistentState<EntityProfile> state,
        RuleBook rules,
        IProfileOutput output,
        IEntityContextSource contextSource,
        IStreamPositions positions,
        ProfileMetrics metrics,
        ProfileCheckpoints checkpoints,
        PartitionResidents<IGrainContext> residents,
        IOptions<ProfileOptions> options,
        TimeProvider time,
        ILogger<ProfileGrain> logger)
    {
        _state = state;
        _rules = rules;
        _output = output;
        _contextSource = contextSource;
        _positions = positions;
        _metrics = metrics;
        _checkpoints = checkpoints;
        _residents = residents;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    private string Entity => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await LoadContextAsync(cancellationToken);

        // Last, and undone when the activation ends whichever way it ends: OnDeactivateAsync runs only for an activation
        // that became valid, and a migration started while it still activated would leave it counted and listed.
        _metrics.Activated();
        if (StoredPartition is { } partition)
        {
            Reside(partition); // moved here, or loaded: it counts under its partition before its next event
        }

        _ = GrainContext.Deactivated.ContinueWith(static (_, grain) => ((ProfileGrain)grain!).Ended(), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>After the activation ended (no call runs any more): it no longer counts, here or under its partition.</summary>
    private void Ended()
    {
        _metrics.Deactivated();
        if (_residentPartition >= 0)
        {
            _residents.Leave(_residentPartition, GrainContext);
            _residentPartition = -1;
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await CheckpointAsync(deactivating: true, cancellationToken, shuttingDown: reason.ReasonCode == DeactivationReasonCode.ShuttingDown);
    }

    public async Task<ProfileSnapshot?> GetProfile()
    {
        if (ContextIsStale)
        {
            await LoadContextAsync(CancellationToken.None);
        }

        return Snapshot();
    }

    private ProfileSnapshot? Snapshot()
    {
        if (_state.State.IsEmpty)
        {
            this.DeactivateOnIdle(); // asked about an entity never seen: keep nothing of it
            return null;
        }

        return _state.State.ToSnapshot(Entity, _context, _contextLoadedAt) with
        {
            Partition = StoredPartition,
            Silo = _positions.LocalReader,
        };
    }

    /// <summary>The partition of the last events the state covers (the one furthest read), if any.</summary>
    private int? StoredPartition => _state.State.NextOffsets.Count > 0 ? _state.State.NextOffsets.MaxBy(p => p.Value).Key : null;

    /// <summary>Counts this profile among the silo's residents of <paramref name="partition"/> (and no longer of another).</summary>
    private void Reside(int partition)
    {
        if (partition == _residentPartition)
        {
            return;
        }

        if (_residentPartition >= 0)
        {
            _residents.Leave(_residentPartition, GrainContext);
        }

        _residents.Enter(partition, GrainContext);
        _residentPartition = partition;
    }

    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        handleFactory.Create<StreamEvent>().ResumeAsync(this);

    public Task OnNextAsync(IList<SequentialItem<StreamEvent>> batch) =>
        ContextIsStale ? RefreshThenDecideAsync(batch) : Decide(batch);

    private async Task RefreshThenDecideAsync(IList<SequentialItem<StreamEvent>> batch)
    {
        await LoadContextAsync(CancellationToken.None);
        await Decide(batch);
    }

    private Task Decide(IList<SequentialItem<StreamEvent>> batch)
    {
        var profile = _state.State;
        var recordTimestamp = _positions.CurrentRecordTimestamp();
        var now = _time.GetUtcNow();
        int taken = 0, replays = 0, lastPartition = -1;
        foreach (var item in batch)
        {
            if (!_positions.TryLocate(item.Token, out var partition, out var offset))
            {
                partition = -1;
                offset = -1;
            }
            else if (profile.IsReplay(partition, offset))
            {
                // Nothing to count, but it says who reads the partition now: after a move the new reader starts at the
                // committed offset, and the records the old reader delivered last come again from the new one. A
                // replay must make the profile follow its partition as a new record does, or it stays where the
                // partition was read (the placement test caught 23 profiles left behind that way).
                replays++;
                lastPartition = partition;
                continue;
            }
            else if (_unstoredPartitions.Add(partition))
            {
                _checkpoints.Dirty(partition, Entity, offset); // commits of the partition wait for the next checkpoint
            }

            lastPartition = partition;

            var evt = item.Item;
            var verdict = RuleEngine.Decide(_rules, evt, profile, _context, now);
            taken++;
            foreach (var decision in verdict.Decisions)
            {
                if (_output.Decided(decision, partition, offset, _unacknowledged))
                {
                    _metrics.Decided(decision, recordTimestamp is { } ts ? (_time.GetUtcNow() - ts).TotalMilliseconds : null);
                }
            }

            if (!verdict.Filtered && _output.EnrichedEnabled)
            {
                _output.Passed(evt, new ProfileSummary(profile.Count, profile.Values.Mean, profile.Values.StdDev, profile.AnomalyScore, profile.Flags), verdict.Enrichments, _unacknowledged);
            }
        }

        _metrics.Processed(taken, replays);
        _dirty |= taken > 0;

        if (lastPartition >= 0)
        {
            Reside(lastPartition);
        }

        if (lastPartition >= 0 && (_positions.IsDeliveredFromElsewhere() || !_positions.IsReadHere(lastPartition)))
        {
            // The partition is read elsewhere now (it moved, or this activation predates its owner): follow it at once.
            // The delivery's request context names the partition, so the placement director sends the grain to its
            // reader; the state goes with it. If the director does not know the new reader yet, the grain deactivates
            // here (writing its state), and the next event or the silo's sweep for residents of moved partitions
            // places it again.
            this.MigrateOnIdle();
        }
        else if (_dirty)
        {
            ScheduleCheckpoint();
        }

        return Task.CompletedTask;
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;

    /// <summary>
    /// Whether the context is older than the source's refresh interval (or its last load failed that long ago): it is
    /// loaded again before the next decision or answer. Refreshing on use rather than on a timer keeps a quiet profile
    /// free of work: a timer per profile costs a grain call per tick, which a silo of a million profiles cannot afford.
    /// </summary>
    private bool ContextIsStale =>
        _contextSource.RefreshInterval > TimeSpan.Zero && _contextSource.RefreshInterval != Timeout.InfiniteTimeSpan &&
        _time.GetUtcNow() - _contextTriedAt >= _contextSource.RefreshInterval;

    /// <summary>Writes the state once <see cref="ProfileOptions.CheckpointInterval"/> after it first changed (one timer, only while there is something to write).</summary>
    private void ScheduleCheckpoint()
    {
        if (_checkpoint is null && _options.CheckpointInterval > TimeSpan.Zero && _options.CheckpointInterval != Timeout.InfiniteTimeSpan)
        {
            var due = _awaitingAcknowledgements && AcknowledgementRetry < _options.CheckpointInterval ? AcknowledgementRetry : _options.CheckpointInterval;
            _checkpoint = this.RegisterGrainTimer(CheckpointTickAsync, new GrainTimerCreationOptions(due, Timeout.InfiniteTimeSpan));
        }
    }

    private async Task CheckpointTickAsync(CancellationToken cancellationToken)
    {
        try
        {
            await CheckpointAsync(deactivating: false, cancellationToken);
        }
        finally
        {
            _checkpoint?.Dispose(); // after the write: disposing a timer cancels the token its callback was given
            _checkpoint = null;
            if (_dirty)
            {
                ScheduleCheckpoint(); // the write failed (or was cancelled): try again later
            }
        }
    }

    private async Task LoadContextAsync(CancellationToken cancellationToken)
    {
        _contextTriedAt = _time.GetUtcNow();
        var started = Stopwatch.GetTimestamp();
        try
        {
            _context = await _contextSource.LoadAsync(Entity, cancellationToken);
            _contextLoadedAt = _time.GetUtcNow();
            _metrics.ContextLoaded(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Decide with the context known so far; the next refresh tries again.
            LogContextFailed(_logger, Entity, ex);
        }
    }

    /// <summary>
    /// Writes the state, once Kafka has acknowledged every decision and enriched event made from the events it covers
    /// (it holds the grain up to <see cref="AcknowledgementWait"/> for them, else tries again a second later):
    /// written, those events are behind the profile (a crash replays them as replays, which decide nothing), so what they
    /// produced must be in Kafka first. Until then the state stays unwritten and Kafka's commit stays behind the events
    /// (<see cref="ProfileCheckpoints"/>), so a crash replays them and decides them again (the decision ledger drops what
    /// was published after all).
    /// </summary>
    /// <param name="deactivating">
    /// The activation ends: it waits for the acknowledgements as long as Orleans lets it. Moving or idle, it then writes
    /// whatever came: the silo lives on and its producer keeps retrying, while not writing would lose the events from the
    /// profile (the stream goes on past them).
    /// </param>
    /// <param name="cancellationToken">Ends the write.</param>
    /// <param name="shuttingDown">
    /// The silo stops: with records still unacknowledged it writes nothing, and its partitions' commits stay behind the
    /// events (the producer is about to be disposed): the next reader replays them and decides them again.
    /// </param>
    private async Task CheckpointAsync(bool deactivating, CancellationToken cancellationToken, bool shuttingDown = false)
    {
        if (!_dirty)
        {
            return;
        }

        _awaitingAcknowledgements = !await _unacknowledged.WaitAsync(deactivating ? Timeout.InfiniteTimeSpan : AcknowledgementWait, cancellationToken);
        if (_awaitingAcknowledgements)
        {
            if (!deactivating)
            {
                LogAwaitingAcknowledgements(_logger, Entity, _unacknowledged.Count);
                return; // still dirty: tries again in a second
            }

            LogDeactivatedUnacknowledged(_logger, Entity, _unacknowledged.Count, shuttingDown);
            if (shuttingDown)
            {
                return;
            }

            cancellationToken = CancellationToken.None; // the deactivation's time is up, and the state must still be written
        }

        try
        {
            await _state.WriteStateAsync(cancellationToken);
            _dirty = false;
            foreach (var partition in _unstoredPartitions)
            {
                _checkpoints.Durable(partition, Entity);
            }

            _unstoredPartitions.Clear();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCheckpointFailed(_logger, Entity, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Profile {Entity}: {Count} published records not yet acknowledged by Kafka; its state is written at a later checkpoint")]
    private static partial void LogAwaitingAcknowledgements(ILogger logger, string entity, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Profile {Entity}: deactivated with {Count} published records not yet acknowledged by Kafka (silo stopping: {ShuttingDown}); stopping, its state stays unwritten and the events are replayed; otherwise it is written, and they are lost only if this silo dies before Kafka takes them")]
    private static partial void LogDeactivatedUnacknowledged(ILogger logger, string entity, int count, bool shuttingDown);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Profile {Entity}: its context could not be loaded; deciding with what is known")]
    private static partial void LogContextFailed(ILogger logger, string entity, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Profile {Entity}: its state could not be written; trying again at the next checkpoint")]
    private static partial void LogCheckpointFailed(ILogger logger, string entity, Exception exception);
}
