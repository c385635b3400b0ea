using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using StreamGrains.Kafka.DataAdapters;
using StreamGrains.Kafka.Statistics;
using StreamGrains.Kafka.Tracing;

namespace StreamGrains.Kafka.Providers;

/// <summary>
/// Reads one Kafka partition for the pulling agent that owns its queue, through the silo's <see cref="KafkaTopicReader"/>
/// of its topic. The partition is assigned manually (Orleans' balancer decides who reads what, not Kafka's group
/// protocol) and reading starts at the group's committed offset, else where <see cref="KafkaStreamOptions.StartFrom"/>
/// says. Each read takes what the reader fetched (waiting up to <see cref="KafkaStreamOptions.ReadWaitTime"/> when
/// nothing is there yet), decodes it, dead-letters what cannot be decoded, and packs the rest into one container per
/// stream.
/// </summary>
internal sealed partial class KafkaAdapterReceiver(
    KafkaPartitionContext partition,
    KafkaTopicLayout topic,
    KafkaTopicReader reader,
    KafkaStreamOptions options,
    IKafkaDataAdapter dataAdapter,
    KafkaDeadLetterPublisher deadLetters,
    IReadOnlyList<Observers.IKafkaReadObserver> observers,
    KafkaStreamMetrics metrics,
    string ownerName,
    ILogger<KafkaAdapterReceiver> logger) : IQueueAdapterReceiver, IDisposable
{
    private static readonly IList<IBatchContainer> Nothing = Array.Empty<IBatchContainer>();
    private readonly CancellationTokenSource _stopping = new();

    // Every container of this receiver names it as the reader in its delivery's request context (read only: shared).
    private readonly Dictionary<string, object> _readerContext = new() { [KafkaBatchContainer.ReaderKey] = ownerName };
    private readonly string _receiveSpanName = KafkaTracing.ReceiveSpanName(partition.Topic);
    private readonly Diagnostics.KafkaLogScope _scope = new(
        new("topic", partition.Topic),
        new("partition", partition.Partition.Partition.Value),
        new("consumerGroup", options.ConsumerGroup));
    private KafkaTopicReader? _reader;
    private KafkaPartitionReading? _reading;
    private Task? _commitLoop;
    private IDisposable? _lagTracking;
    private KafkaQueueCache? _cache;
    private long _position = -1;
    private long _lastReadEnd = -1;

    [Obsolete("Use the overload which accepts a CancellationToken.")]
    public Task Initialize(TimeSpan timeout) => Initialize(timeout, CancellationToken.None);

    [Obsolete("Use the overload which accepts a CancellationToken.")]
    public Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount) => GetQueueMessagesAsync(maxCount, CancellationToken.None);

    [Obsolete("Use the overload which accepts a CancellationToken.")]
    public Task MessagesDeliveredAsync(IList<IBatchContainer> messages) => Task.CompletedTask;

    [Obsolete("Use the overload which accepts a CancellationToken.")]
    public Task Shutdown(TimeSpan timeout) => Shutdown(timeout, CancellationToken.None);

    public Task MessagesDeliveredAsync(IList<IBatchContainer> messages, CancellationToken cancellationToken) => Task.CompletedTask; // the cache reports delivery to the checkpointer

    public Task Initialize(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var scope = logger.BeginScope(_scope);
        _cache = partition.Cache; // made by this receiver's pulling agent just before it; closed when the receiver goes
        var tp = partition.Partition;
        partition.StartOwnership();
        partition.Health.Reset(DateTime.UtcNow);
        _reading = reader.Add(partition);
        _reader = reader;
        partition.Checkpointer.Bind(reader.Consumer);
        _lagTracking = metrics.TrackPartition(tp, () => partition.Status(DateTime.UtcNow, options.UnreadableAfter));
        partition.SetOwner(ownerName);
        _commitLoop = CommitLoopAsync(_stopping.Token);
        LogStarted(logger, tp.Topic, tp.Partition.Value, options.ConsumerGroup, options.StartFrom.ToString());
        return Task.CompletedTask;
    }

    public async Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount, CancellationToken cancellationToken)
    {
        if (_reader is not { } reader || _reading is not { } reading)
        {
            return Nothing;
        }

        var limit = maxCount < 0 ? options.MaxBatchSize : Math.Min(maxCount, options.MaxBatchSize);
        var byteBudget = partition.ReadByteBudget;
        var records = reader.Take(reading, limit, byteBudget);
        if (records.Count == 0 && options.ReadWaitTime > TimeSpan.Zero && !cancellationToken.IsCancellationRequested)
        {
            // Nothing fetched yet: wait for the next record rather than come back a poll period later.
            await reader.WaitAsync(reading, options.ReadWaitTime, cancellationToken).ConfigureAwait(false);
            records = reader.Take(reading, limit, byteBudget);
        }

        if (records.Count == 0)
        {
            return Nothing;
        }

        try
        {
            return await HandOverAsync(records).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Nothing of this read reached the cache or the dead-letter topic for sure: read it again from its first
            // offset rather than lose a record.
            reader.Rewind(reading, records[0].Offset);
            throw;
        }
    }

    /// <summary>Decodes one read, dead-letters what cannot be decoded and packs the rest into one container per stream.</summary>
    private async Task<IList<IBatchContainer>> HandOverAsync(List<ConsumeResult<byte[]?, byte[]?>> records)
    {

        long bytes = 0;
        var streams = new Dictionary<string, (List<object> Events, List<long> Offsets, long LastTimestampMs, List<string?>? TraceParents, long Bytes)>(StringComparer.Ordinal);
        List<(KafkaInboundRecord, string, string)>? rejected = null;
        var observed = observers.Count > 0 ? new List<Observers.KafkaObservedRecord>(records.Count) : null;
        foreach (var record in records)
        {
            var message = record.Message;
            var inbound = new KafkaInboundRecord(record.Topic, record.Partition.Value, record.Offset.Value, message.Key, message.Value, message.Headers, message.Timestamp);
            var size = (message.Key?.Length ?? 0) + (message.Value?.Length ?? 0);
            bytes += size;
            var receive = KafkaTracing.StartReceive(_receiveSpanName, record.Topic, record.Partition.Value, record.Offset.Value, message.Headers, options.TraceSampleRatio);
            KafkaDecodeResult decoded;
            if (size > options.MaxRecordBytes)
            {
                decoded = KafkaDecodeResult.Reject("oversized", $"The record has {size} bytes; the limit is {options.MaxRecordBytes}.");
            }
            else
            {
                try
                {
                    decoded = dataAdapter.Decode(inbound);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    decoded = KafkaDecodeResult.Reject("decode-error", $"{ex.GetType().Name}: {ex.Message}");
                }
            }

            if (!decoded.IsSuccess)
            {
                receive?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, decoded.RejectionReason);
                KafkaTracing.End(receive);
                (rejected ??= []).Add((inbound, decoded.RejectionReason ?? "rejected", decoded.RejectionDetail ?? string.Empty));
                continue;
            }

            ref var stream = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(streams, decoded.StreamKey!, out var exists);
            if (!exists)
            {
                stream = ([], [], 0, null, 0);
            }

            if (receive is not null && stream.TraceParents is null)
            {
                stream.TraceParents = [.. Enumerable.Repeat<string?>(null, stream.Events.Count)];
            }

            stream.Events.Add(decoded.Event!);
            stream.Offsets.Add(record.Offset.Value);
            observed?.Add(new Observers.KafkaObservedRecord(record.Offset.Value, message.Timestamp, decoded.StreamKey!, decoded.Event!, message.Key, message.Value, message.Headers));
            stream.Bytes += size;
            stream.LastTimestampMs = message.Timestamp.UnixTimestampMs;
            stream.TraceParents?.Add(receive?.Id);
            KafkaTracing.End(receive);
        }

        var first = records[0];
        var last = records[^1];
        metrics.Consumed(topic.Topic, first.Partition.Value, records.Count, bytes);
        if (rejected is not null)
        {
            using var scope = logger.BeginScope(_scope);
            try
            {
                await deadLetters.PublishAsync(rejected, _stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // The caller reads this batch again from its first offset: nothing is lost.
                LogDeadLetterFailed(logger, ex, topic.Topic, first.Partition.Value, first.Offset.Value);
                throw;
            }
        }

        if (observed is { Count: > 0 })
        {
            // Before the cache: an observer holding commits back (the archive) has seen every record first.
            foreach (var observer in observers)
            {
                await observer.OnReadAsync(partition.Partition, observed, _stopping.Token).ConfigureAwait(false);
            }
        }

        _position = last.Offset.Value + 1;
        partition.ReadUpTo = _position;
        var previousReadEnd = _lastReadEnd;
        _lastReadEnd = _position;

        // Containers in the order of their streams' first records: their first offsets increase. Each carries where
        // the read ended: the cache hands that over to the checkpointer once it holds them.
        var containers = new List<IBatchContainer>(streams.Count);
        foreach (var (key, stream) in streams)
        {
            containers.Add(new KafkaBatchContainer(KafkaQueueMapper.StreamIdOf(topic, key), first.Partition.Value, stream.Events, stream.Offsets, stream.LastTimestampMs, _readerContext, stream.TraceParents)
            {
                ReadEnd = _position,
                Bytes = stream.Bytes,
            });
        }

        if (containers.Count == 0 && (previousReadEnd < 0 || partition.HandedOverUpTo >= previousReadEnd))
        {
            // Every record of this read is in the dead-letter topic and everything read before it reached the cache.
            partition.HandOver(_position);
        }

        return containers;
    }

    public async Task Shutdown(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var scope = logger.BeginScope(_scope);
        var tp = partition.Partition;
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_commitLoop is not null)
        {
            await _commitLoop.ConfigureAwait(false);
        }

        try
        {
            using var flush = new CancellationTokenSource(timeout);
            await partition.Checkpointer.FlushAsync(flush.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            LogFinalCommitTimedOut(logger, tp.Topic, tp.Partition.Value);
        }
        catch (Exception ex)
        {
            LogCommitLoopFailed(logger, ex, tp.Topic, tp.Partition.Value);
        }
        finally
        {
            partition.Checkpointer.Bind(null);
            if (Interlocked.Exchange(ref _reader, null) is { } reader && _reading is { } reading)
            {
                reader.Remove(reading);
            }

            if (partition.Owner == ownerName)
            {
                partition.SetOwner(null);
            }

            Dispose();
        }

        LogStopped(logger, tp.Topic, tp.Partition.Value, partition.Checkpointer.CommittedOffset);
    }

    public void Dispose()
    {
        _cache?.Close();
        _lagTracking?.Dispose();
        if (Interlocked.Exchange(ref _reader, null) is { } reader && _reading is { } reading)
        {
            reader.Remove(reading);
        }

        _stopping.Dispose();
    }

    private async Task CommitLoopAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(options.CommitInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                try
                {
                    // Batches consumers failed on hold the checkpoint back until they are dead-lettered.
                    await deadLetters.PublishFailedDeliveriesAsync(partition, stopping).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    using var scope = logger.BeginScope(_scope);
                    LogDeadLetterRetryFailed(logger, ex, partition.Topic, partition.Partition.Partition.Value);
                }

                try
                {
                    await partition.Checkpointer.FlushAsync(stopping).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A failing commit gate must not end the loop: the next tick tries again.
                    using var scope = logger.BeginScope(_scope);
                    LogCommitLoopFailed(logger, ex, partition.Topic, partition.Partition.Partition.Value);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reading {Topic}[{Partition}] from group {ConsumerGroup}'s committed offset (else {StartFrom})")]
    private static partial void LogStarted(ILogger logger, string topic, int partition, string consumerGroup, string startFrom);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped reading {Topic}[{Partition}]; committed offset {Committed}")]
    private static partial void LogStopped(ILogger logger, string topic, int partition, long committed);


    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not dead-letter records of {Topic}[{Partition}]; reading again from offset {Offset}")]
    private static partial void LogDeadLetterFailed(ILogger logger, Exception exception, string topic, int partition, long offset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Committing {Topic}[{Partition}] failed; trying again next interval")]
    private static partial void LogCommitLoopFailed(ILogger logger, Exception exception, string topic, int partition);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not dead-letter the failed batches of {Topic}[{Partition}]; their offsets stay uncommitted, trying again next interval")]
    private static partial void LogDeadLetterRetryFailed(ILogger logger, Exception exception, string topic, int partition);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The final commit of {Topic}[{Partition}] timed out; its last delivered records may be delivered again")]
    private static partial void LogFinalCommitTimedOut(ILogger logger, string topic, int partition);
}
