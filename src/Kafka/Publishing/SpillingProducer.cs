using System.Diagnostics.Metrics;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StreamGrains.Kafka.Statistics;
using ErrorCode = Confluent.Kafka.ErrorCode;

namespace StreamGrains.Kafka.Publishing;

/// <summary>
/// Produces keyed records to one topic through one idempotent producer (acks=all, the Java client's partitioner), and
/// loses none when Kafka is away: a record Kafka has not acknowledged within
/// <see cref="SpillingProducerOptions.PublishTimeout"/> goes to a local append-only spill log (written through to
/// disk), and so does every later record while the log holds any, so that records of a key stay in order; the
/// background loop (run it as a hosted service) sends the log, oldest first, once Kafka answers again, also after a
/// restart in between. <see cref="PublishAsync"/> returns once each record is acknowledged by Kafka or safely on disk.
/// Used by the silo's <c>POST /api/events</c> and by the SDK's cluster mode.
/// </summary>
/// <remarks>
/// Records are sent at least once: a process killed between Kafka's acknowledgement of spilled records and the write of
/// how far the log was sent sends those again after its restart (a graceful stop sends nothing twice).
/// </remarks>
public sealed partial class SpillingProducer : BackgroundService
{
    private const int DrainBatch = 500;
    private readonly IProducer<string, byte[]> _producer;
    private readonly string _topic;
    private readonly SpillLog _spill;
    private readonly long _maxSpillBytes;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly ILogger _logger;
    private readonly Counter<long> _spilled;
    private readonly Counter<long> _resent;
    private readonly Counter<long> _refused;

    /// <summary>Opens (or creates) the spill log and builds the producer.</summary>
    /// <param name="options">Where to produce and spill.</param>
    /// <param name="meters">Makes the meter of the producer's metrics.</param>
    /// <param name="logger">Where the producer logs.</param>
    /// <exception cref="ArgumentException">An option is invalid (the message names it).</exception>
    public SpillingProducer(SpillingProducerOptions options, IMeterFactory meters, ILogger<SpillingProducer> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(meters);
        if (options.Error() is { } error)
        {
            throw new ArgumentException(error, nameof(options));
        }

        var config = new ProducerConfig(options.Producer.ToDictionary(p => p.Key, p => p.Value))
        {
            EnableIdempotence = true,
            Acks = Acks.All,
            Partitioner = Partitioner.Murmur2Random, // keys land where the platform places their profiles
            MessageTimeoutMs = (int)options.PublishTimeout.TotalMilliseconds, // then the record goes to disk instead
        };
        config.LingerMs ??= 1;
        _producer = new ProducerBuilder<string, byte[]>(config)
            .SetLogHandler((_, message) => LogKafka(logger, message.Level.ToString(), message.Message))
            .Build();
        _topic = options.Topic;
        _logger = logger;
        _spill = new SpillLog(options.SpillDirectory);
        _maxSpillBytes = options.MaxSpillBytes;
        var prefix = options.MetricPrefix;
        var meter = meters.Create(KafkaStreamMetrics.MeterName);
        _spilled = meter.CreateCounter<long>($"{prefix}.events.spilled", "{event}", "Records Kafka could not take in time, written to the local spill log.");
        _resent = meter.CreateCounter<long>($"{prefix}.events.resent", "{event}", "Spilled records sent to Kafka once it answered again.");
        _refused = meter.CreateCounter<long>($"{prefix}.events.refused", "{event}", "Records refused because Kafka was away and the spill log full.");
        meter.CreateObservableUpDownCounter($"{prefix}.spill.pending", () => PendingBytes, "By", "Bytes of the spill log not yet in Kafka.");
        if (!_spill.IsEmpty)
        {
            LogSpillFound(logger, _spill.PendingBytes);
        }
    }

    /// <summary>Bytes in the spill log not yet sent.</summary>
    public long PendingBytes
    {
        get
        {
            lock (_gate)
            {
                return _spill.PendingBytes;
            }
        }
    }

    /// <summary>
    /// Produces the records; returns once each is acknowledged by Kafka or in the spill log (how many went there). Not
    /// cancellable: each delivery ends within the publish timeout, and one the caller stopped waiting for must still go
    /// to Kafka or the spill log, never nowhere.
    /// </summary>
    /// <param name="records">The records: key and value.</param>
    /// <returns>How many of the records went to the spill log.</returns>
    /// <exception cref="ProduceException{TKey, TValue}">Kafka refused a record for good (too large, not authorised); the others are in Kafka or the spill log.</exception>
    /// <exception cref="SpillLogFullException">The spill log is full (Kafka away, or the log still being sent): none of the records was taken.</exception>
    public async Task<int> PublishAsync(IReadOnlyList<(string Key, byte[] Value)> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        lock (_gate)
        {
            if (!_spill.IsEmpty)
            {
                // The file, not only what is unsent: the log is emptied only once all of it is sent, so posts arriving
                // while it drains would otherwise grow it without end; refusing them lets the drain catch up.
                if (_spill.FileBytes + SpillLog.SizeOf(records) > _maxSpillBytes)
                {
                    _refused.Add(records.Count);
                    throw new SpillLogFullException(_spill.FileBytes, _maxSpillBytes);
                }

                return Spill(records); // behind the ones already waiting, in order
            }
        }

        var deliveries = records.Select(r => _producer.ProduceAsync(_topic, new Message<string, byte[]> { Key = r.Key, Value = r.Value }, CancellationToken.None)).ToArray();
        try
        {
            await Task.WhenAll(deliveries).ConfigureAwait(false);
            return 0;
        }
        catch (ProduceException<string, byte[]>)
        {
            var failures = deliveries.Select((d, i) => (Error: (d.Exception?.InnerException as ProduceException<string, byte[]>)?.Error, Record: records[i]))
                .Where(x => x.Error is not null)
                .ToList();
            int spilled;
            lock (_gate)
            {
                spilled = Spill(failures.Where(f => IsTransient(f.Error!)).Select(f => f.Record).ToList());
            }

            if (failures.FirstOrDefault(f => !IsTransient(f.Error!)) is { Error: { } refused })
            {
                throw new ProduceException<string, byte[]>(refused, new DeliveryResult<string, byte[]>()); // the caller hears why
            }

            return spilled;
        }
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await SendSpilledAsync().ConfigureAwait(false))
                {
                    if (failures > 0)
                    {
                        LogResending(_logger, failures);
                        failures = 0;
                    }

                    continue;
                }

                await WaitAsync(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // Kafka still away (or the disk in trouble): never the end of the process; try again, less and less often.
                if ((++failures & (failures - 1)) == 0)
                {
                    LogStillAway(_logger, failures, PendingBytes, ex.Message);
                }

                await WaitAsync(TimeSpan.FromSeconds(Math.Min(10, failures)), stoppingToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Sends the oldest spilled records and records how far Kafka took them (every record acknowledged before the first
    /// failure counts, so none is sent twice); true when all of a non-empty batch went.
    /// </summary>
    /// <exception cref="ProduceException{TKey, TValue}">Kafka did not take one of them.</exception>
    internal async Task<bool> SendSpilledAsync()
    {
        List<(string Key, byte[] Value, long End)> batch;
        lock (_gate)
        {
            batch = _spill.IsEmpty ? [] : _spill.Peek(DrainBatch);
        }

        if (batch.Count == 0)
        {
            return false;
        }

        var deliveries = batch.Select(r => _producer.ProduceAsync(_topic, new Message<string, byte[]> { Key = r.Key, Value = r.Value }, CancellationToken.None)).ToArray();
        try
        {
            await Task.WhenAll(deliveries).ConfigureAwait(false);
        }
        finally
        {
            var taken = deliveries.TakeWhile(d => d.IsCompletedSuccessfully).Count();
            if (taken > 0)
            {
                lock (_gate)
                {
                    _spill.Sent(batch[taken - 1].End);
                }

                _resent.Add(taken);
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        _producer.Flush(TimeSpan.FromSeconds(5));
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        base.Dispose();
        _producer.Dispose();
        lock (_gate)
        {
            _spill.Dispose();
        }

        _wake.Dispose();
    }

    private int Spill(IReadOnlyList<(string Key, byte[] Value)> records)
    {
        if (records.Count == 0)
        {
            return 0;
        }

        var first = _spill.IsEmpty;
        _spill.Append(records);
        _spilled.Add(records.Count);
        if (first)
        {
            LogSpilling(_logger, records.Count);
        }

        _wake.Release();
        return records.Count;
    }

    private async Task WaitAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await _wake.WaitAsync(delay, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Whether waiting may help: Kafka away or slow, rather than the record or the client refused for good.</summary>
    private static bool IsTransient(Error error) =>
        !error.IsFatal && error.Code is not (ErrorCode.MsgSizeTooLarge or ErrorCode.InvalidMsg or ErrorCode.RecordListTooLarge
            or ErrorCode.TopicAuthorizationFailed or ErrorCode.ClusterAuthorizationFailed or ErrorCode.Local_UnknownTopic or ErrorCode.UnknownTopicOrPart);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka did not take {Count} records in time: they are in the spill log, and every record goes there until Kafka takes them")]
    private static partial void LogSpilling(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The spill log holds {Bytes} bytes from before this start: sending them first")]
    private static partial void LogSpillFound(ILogger logger, long bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka still does not take the spilled records ({Failures} tries; {Bytes} bytes waiting): {Reason}")]
    private static partial void LogStillAway(ILogger logger, int failures, long bytes, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Kafka takes the spilled records again, after {Failures} failed tries")]
    private static partial void LogResending(ILogger logger, int failures);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Kafka producer {Level}: {Message}")]
    private static partial void LogKafka(ILogger logger, string level, string message);
}
