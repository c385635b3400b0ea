using System.Collections.Concurrent;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using StreamGrains.Kafka.Statistics;

namespace StreamGrains.Kafka.Providers;

/// <summary>
/// Reads every partition of one topic that this silo owns, with one Kafka consumer and one thread, and hands each
/// partition's records to its receiver through a bounded buffer (the way a Kafka Streams thread reads its tasks'
/// partitions). One consumer per silo and topic rather than per partition: one fetch loop, one set of librdkafka threads
/// and one connection per broker, however many partitions the silo reads.
/// </summary>
/// <remarks>
/// <para>Partitions are assigned by hand (<see cref="Add"/>, <see cref="Remove"/>), starting at the consumer group's
/// committed offset: Orleans' queue balancer, not Kafka's group protocol, decides who reads what. The consumer is only
/// ever used by the reader thread, but for commits and committed-offset queries, which librdkafka allows from any
/// thread.</para>
/// <para>A partition whose buffer holds <see cref="BufferRecords"/> records or <see cref="BufferBytes"/> bytes is paused
/// until its receiver took half of them, so memory stays bounded however slow a partition's consumers are.</para>
/// </remarks>
internal sealed partial class KafkaTopicReader : IDisposable
{
    /// <summary>The most records buffered per partition before it is paused.</summary>
    public const int BufferRecords = 10_000;

    /// <summary>The most key and value bytes buffered per partition before it is paused.</summary>
    public const long BufferBytes = 4L * 1024 * 1024;

    private static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(100);
    private readonly string _topic;
    private readonly ILogger _logger;
    private readonly IConsumer<byte[]?, byte[]?> _consumer;
    private readonly ConcurrentDictionary<int, Buffer> _buffers = new();
    private readonly ConcurrentQueue<Action> _commands = new();
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly Thread _thread;
    private volatile bool _disposed;

    public KafkaTopicReader(KafkaStreamOptions options, string topic, string clientId, ILogger logger)
    {
        _topic = topic;
        _logger = logger;
        _consumer = new ConsumerBuilder<byte[]?, byte[]?>(KafkaClientConfigs.Consumer(options, clientId))
            .SetErrorHandler((_, error) => LogKafkaError(logger, topic, error.Code.ToString(), error.Reason))
            .SetLogHandler((_, message) => LogKafkaLog(logger, message.Level.ToString(), message.Message))
            .SetStatisticsHandler((_, json) => OnStatistics(json))
            .Build();
        _thread = new Thread(Run) { IsBackground = true, Name = $"sg:{topic}" };
        _thread.Start();
    }

    /// <summary>The consumer, for commits and committed-offset queries (both safe from any thread).</summary>
    public IConsumer<byte[]?, byte[]?> Consumer => _consumer;

    /// <summary>
    /// Starts reading <paramref name="partition"/> at the group's committed offset (else where StartFrom says). The
    /// handle stands for this ownership: taking, waiting, rewinding and removing go through it, and do nothing once the
    /// partition was removed or added again (an earlier owner's late calls cannot touch a later ownership's records).
    /// </summary>
    public KafkaPartitionReading Add(KafkaPartitionContext partition)
    {
        var buffer = new Buffer(partition);
        buffer.BeginSeek(); // nothing fetched before the assignment below may reach this ownership
        _buffers[partition.Partition.Partition.Value] = buffer;
        Execute(() =>
        {
            try
            {
                _consumer.IncrementalUnassign([partition.Partition]); // an earlier ownership that was never removed
            }
            catch (KafkaException)
            {
                // Not assigned: the usual case.
            }

            _consumer.IncrementalAssign([new TopicPartitionOffset(partition.Partition, Offset.Stored)]);
            Resume(partition.Partition); // librdkafka keeps an application pause across unassign and assign
            buffer.Paused = false;
            buffer.EndSeek();
        });
        return buffer;
    }

    /// <summary>Stops reading a partition and drops what was buffered of it (if <paramref name="reading"/> is still the current ownership).</summary>
    public void Remove(KafkaPartitionReading reading)
    {
        var buffer = (Buffer)reading;
        var partition = buffer.Partition.Partition;
        if (_buffers.TryRemove(new KeyValuePair<int, Buffer>(partition.Partition.Value, buffer)))
        {
            buffer.Close();
            Execute(() =>
            {
                Resume(partition);
                _consumer.IncrementalUnassign([partition]);
            });
        }
    }

    /// <summary>
    /// Reads a partition again from <paramref name="offset"/>: what was buffered is dropped at once, and nothing fetched
    /// before the seek is handed out after it.
    /// </summary>
    public void Rewind(KafkaPartitionReading reading, long offset)
    {
        var buffer = (Buffer)reading;
        if (!IsCurrent(buffer))
        {
            return;
        }

        buffer.BeginSeek();
        Execute(() =>
        {
            if (!IsCurrent(buffer))
            {
                return;
            }

            // Assigning again works in every state of the partition, where a seek may not (its offset still unknown).
            var partition = buffer.Partition.Partition;
            _consumer.IncrementalUnassign([partition]);
            _consumer.IncrementalAssign([new TopicPartitionOffset(partition, offset)]);
            Resume(partition);
            buffer.Paused = false;
            buffer.EndSeek();
        });
    }

    /// <summary>Takes up to <paramref name="limit"/> records (and about <paramref name="byteBudget"/> bytes, at least one record) of a partition, in offset order.</summary>
    public List<ConsumeResult<byte[]?, byte[]?>> Take(KafkaPartitionReading reading, int limit, long byteBudget)
    {
        var taken = new List<ConsumeResult<byte[]?, byte[]?>>();
        var buffer = (Buffer)reading;
        if (IsCurrent(buffer) && buffer.Take(taken, limit, byteBudget))
        {
            _wake.Set(); // the reader may resume a paused partition
        }

        return taken;
    }

    /// <summary>How many records of a partition wait in its buffer.</summary>
    internal int BufferedRecords(int partition) => _buffers.TryGetValue(partition, out var buffer) ? buffer.Count : 0;

    /// <summary>Waits until a partition has records, for at most <paramref name="timeout"/>.</summary>
    public Task WaitAsync(KafkaPartitionReading reading, TimeSpan timeout, CancellationToken cancellationToken) =>
        IsCurrent((Buffer)reading) ? ((Buffer)reading).WaitAsync(timeout, cancellationToken) : Task.CompletedTask;

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _wake.Set();
        _thread.Join(TimeSpan.FromSeconds(10));
        _consumer.Dispose();
        _wake.Dispose();
    }

    private bool IsCurrent(Buffer buffer) =>
        _buffers.TryGetValue(buffer.Partition.Partition.Partition.Value, out var current) && ReferenceEquals(current, buffer);

    /// <summary>Resumes a partition (on the reader thread); an unknown or unassigned one is no error.</summary>
    private void Resume(TopicPartition partition)
    {
        try
        {
            _consumer.Resume([partition]);
        }
        catch (KafkaException)
        {
        }
    }

    private void Execute(Action command)
    {
        _commands.Enqueue(command);
        _wake.Set();
    }

    private void Run()
    {
        var assigned = 0;
        while (!_disposed)
        {
            try
            {
                while (_commands.TryPeek(out var command))
                {
                    try
                    {
                        command();
                        _commands.TryDequeue(out _);
                    }
                    catch (KafkaException ex) when (!_disposed)
                    {
                        // Kept at the head of the queue, in order, and tried again shortly.
                        LogCommandFailed(_logger, ex, _topic);
                        Thread.Sleep(100);
                        break;
                    }
                }

                assigned = _buffers.Count;
                ResumeDrained();
                if (assigned == 0)
                {
                    _wake.Wait(TimeSpan.FromSeconds(1));
                    _wake.Reset();
                    continue;
                }

                if (_consumer.Consume(Slice) is not { } first)
                {
                    continue;
                }

                Route(first);
                // Take what else is fetched already, without waiting, before the receivers are woken.
                for (var i = 0; i < 5_000 && _consumer.Consume(TimeSpan.Zero) is { } next; i++)
                {
                    Route(next);
                }

                foreach (var buffer in _buffers.Values)
                {
                    buffer.WakeIfFilled();
                }
            }
            catch (ConsumeException ex)
            {
                LogKafkaError(_logger, _topic, ex.Error.Code.ToString(), ex.Error.Reason);
            }
            catch (KafkaException ex) when (!_disposed)
            {
                LogCommandFailed(_logger, ex, _topic);
                Thread.Sleep(100);
            }
            catch (ObjectDisposedException) when (_disposed)
            {
                return;
            }
        }
    }

    private void Route(ConsumeResult<byte[]?, byte[]?> record)
    {
        if (!_buffers.TryGetValue(record.Partition.Value, out var buffer))
        {
            return; // a partition let go of meanwhile: its next owner reads it from the committed offset
        }

        if (buffer.Add(record))
        {
            _consumer.Pause([record.TopicPartition]);
            buffer.Paused = true;
        }
    }

    private void ResumeDrained()
    {
        foreach (var buffer in _buffers.Values)
        {
            if (buffer.Paused && buffer.Drained)
            {
                Resume(buffer.Partition.Partition);
                buffer.Paused = false;
            }
        }
    }

    private void OnStatistics(string json)
    {
        try
        {
            var now = DateTime.UtcNow;
            foreach (var (id, report) in KafkaPartitionHealth.ParseAll(json, _topic, _buffers.Keys))
            {
                if (_buffers.TryGetValue(id, out var buffer))
                {
                    buffer.Partition.Health.Observe(report, now);
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Statistics feed partition state only: they must never stop the reader thread.
            LogStatisticsFailed(_logger, ex, _topic);
        }
    }

    /// <summary>One partition's records on their way from the reader thread to its receiver: one ownership.</summary>
    private sealed class Buffer(KafkaPartitionContext partition) : KafkaPartitionReading
    {
        private readonly Lock _gate = new();
        private readonly Queue<ConsumeResult<byte[]?, byte[]?>> _records = new();
        private long _bytes;
        private bool _seeking;
        private TaskCompletionSource? _waiter;

        public KafkaPartitionContext Partition { get; } = partition;

        public int Count
        {
            get
            {
                lock (_gate)
                {
                    return _records.Count;
                }
            }
        }

        /// <summary>Paused on the consumer (read by the reader thread only).</summary>
        public bool Paused { get; set; }

        /// <summary>Half empty again: a paused partition may resume.</summary>
        public bool Drained
        {
            get
            {
                lock (_gate)
                {
                    return _records.Count <= BufferRecords / 2 && _bytes <= BufferBytes / 2;
                }
            }
        }

        /// <summary>Buffers a record; true when the buffer is now full (pause the partition).</summary>
        public bool Add(ConsumeResult<byte[]?, byte[]?> record)
        {
            lock (_gate)
            {
                if (_seeking)
                {
                    return false; // fetched before a rewind: the seek brings it again
                }

                _records.Enqueue(record);
                _bytes += Size(record);
                return _records.Count >= BufferRecords || _bytes >= BufferBytes;
            }
        }

        public bool Take(List<ConsumeResult<byte[]?, byte[]?>> taken, int limit, long byteBudget)
        {
            lock (_gate)
            {
                long bytes = 0;
                while (taken.Count < limit && bytes < byteBudget && _records.TryDequeue(out var record))
                {
                    taken.Add(record);
                    var size = Size(record);
                    bytes += size;
                    _bytes -= size;
                }

                return taken.Count > 0;
            }
        }

        public Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
        {
            TaskCompletionSource waiter;
            lock (_gate)
            {
                if (_records.Count > 0)
                {
                    return Task.CompletedTask;
                }

                waiter = _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            return waiter.Task.WaitAsync(timeout, cancellationToken).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        public void WakeIfFilled()
        {
            lock (_gate)
            {
                if (_records.Count == 0)
                {
                    return;
                }
            }

            Wake();
        }

        public void Wake()
        {
            TaskCompletionSource? waiter;
            lock (_gate)
            {
                waiter = _waiter;
                _waiter = null;
            }

            waiter?.TrySetResult();
        }

        /// <summary>The ownership ended: drops what is buffered, takes nothing more, wakes a waiting read.</summary>
        public void Close()
        {
            lock (_gate)
            {
                _records.Clear();
                _bytes = 0;
                _seeking = true;
            }

            Wake();
        }

        public void BeginSeek()
        {
            lock (_gate)
            {
                _seeking = true;
                _records.Clear();
                _bytes = 0;
            }
        }

        public void EndSeek()
        {
            lock (_gate)
            {
                _seeking = false;
            }
        }

        private static long Size(ConsumeResult<byte[]?, byte[]?> record) => (record.Message.Key?.Length ?? 0) + (record.Message.Value?.Length ?? 0);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka consumer of {Topic}: {Code} {Reason}")]
    private static partial void LogKafkaError(ILogger logger, string topic, string code, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "librdkafka {Level}: {Message}")]
    private static partial void LogKafkaLog(ILogger logger, string level, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "librdkafka's statistics for {Topic} could not be read")]
    private static partial void LogStatisticsFailed(ILogger logger, Exception exception, string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The reader of {Topic} could not assign, seek or pause a partition; trying again")]
    private static partial void LogCommandFailed(ILogger logger, Exception exception, string topic);
}

/// <summary>A silo's reading of one partition through a <see cref="KafkaTopicReader"/>: one ownership, from add to remove.</summary>
internal abstract class KafkaPartitionReading
{
}
