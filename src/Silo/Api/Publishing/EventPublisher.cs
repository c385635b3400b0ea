using System.Diagnostics.Metrics;
using Confluent.Kafka;
using ErrorCode = Confluent.Kafka.ErrorCode;
using StreamGrains.Events;
using StreamGrains.Profiles;
using StreamGrains.Silo.Configuration;
using StreamGrains.Silo.Kafka;

namespace StreamGrains.Silo.Api.Publishing;

/// <summary>
/// Publishes events that came in over HTTP to the input topic, keyed by entity, through one idempotent producer
/// (acks=all, the Java client's partitioner), and loses none when Kafka is away: a record Kafka has not acknowledged
/// within <c>Api:PublishTimeout</c> goes to a local append-only <see cref="SpillLog"/> (written through to disk), and so
/// does every later event while the log holds any, so that events of a key stay in order; a background loop sends the
/// log, oldest first, once Kafka answers again, also after a restart in between. A request is answered once each of its
/// events is acknowledged by Kafka or safely on disk.
/// </summary>
/// <remarks>
/// Events are sent at least once: a silo killed between Kafka's acknowledgement of spilled records and the write of how
/// far the log was sent sends those again after its restart (a graceful stop sends nothing twice).
/// </remarks>
internal sealed partial class EventPublisher : BackgroundService
{
    private const int DrainBatch = 500;
    private readonly IProducer<string, byte[]> _producer;
    private readonly string _topic;
    private readonly SpillLog _spill;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly ILogger<EventPublisher> _logger;
    private readonly Counter<long> _spilled;
    private readonly Counter<long> _resent;

    public EventPublisher(KafkaEnvironment kafka, Microsoft.Extensions.Options.IOptions<StreamGrainsOptions> options, IMeterFactory meters, ILogger<EventPublisher> logger)
    {
        var api = options.Value.Api;
        var config = kafka.ProducerConfig("streamgrains-api");
        config.MessageTimeoutMs = (int)api.PublishTimeout.TotalMilliseconds; // then the event goes to disk instead
        config.LingerMs = 1;
        _producer = new ProducerBuilder<string, byte[]>(config)
            .SetLogHandler((_, message) => LogKafka(logger, message.Level.ToString(), message.Message))
            .Build();
        _topic = kafka.InputTopic;
        _logger = logger;
        _spill = new SpillLog(SpillDirectory(options.Value));
        var meter = meters.Create(ProfileMetrics.MeterName);
        _spilled = meter.CreateCounter<long>("streamgrains.api.events.spilled", "{event}", "Events POSTed while Kafka could not take them, written to the local spill log.");
        _resent = meter.CreateCounter<long>("streamgrains.api.events.resent", "{event}", "Spilled events sent to Kafka once it answered again.");
        meter.CreateObservableUpDownCounter("streamgrains.api.spill.pending", () => PendingBytes, "By", "Bytes of the spill log not yet in Kafka.");
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

    /// <summary>Where a silo keeps its spill log: <c>Api:SpillDirectory</c>, or one per cluster and silo port under the temp directory.</summary>
    public static string SpillDirectory(StreamGrainsOptions options) =>
        !string.IsNullOrWhiteSpace(options.Api.SpillDirectory)
            ? options.Api.SpillDirectory
            : Path.Combine(Path.GetTempPath(), "streamgrains-spill", $"{options.Cluster.ClusterId}-{options.Cluster.SiloPort}");

    /// <summary>
    /// Publishes the events; returns once each is acknowledged by Kafka or in the spill log (how many went there).
    /// </summary>
    /// <exception cref="ProduceException{TKey, TValue}">Kafka refused an event for good (too large, not authorised).</exception>
    public async Task<int> PublishAsync(IReadOnlyList<StreamEvent> events, CancellationToken cancellationToken)
    {
        var records = events.Select(e => (Key: e.Entity, Value: StreamEventJson.Serialize(e))).ToList();
        lock (_gate)
        {
            if (!_spill.IsEmpty)
            {
                return Spill(records); // behind the ones already waiting, in order
            }
        }

        // Not cancelled with the request: each delivery ends within PublishTimeout, and one the client stopped waiting
        // for must still go to Kafka or the spill log, never nowhere.
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
                // Kafka still away (or the disk in trouble): never the end of the silo; try again, less and less often.
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
    private async Task<bool> SendSpilledAsync()
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

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        _producer.Flush(TimeSpan.FromSeconds(5));
    }

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

    private int Spill(List<(string Key, byte[] Value)> records)
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka did not take {Count} posted events in time: they are in the spill log, and every posted event goes there until Kafka takes them")]
    private static partial void LogSpilling(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The spill log holds {Bytes} bytes from before this start: sending them first")]
    private static partial void LogSpillFound(ILogger logger, long bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka still does not take the spilled events ({Failures} tries; {Bytes} bytes waiting): {Reason}")]
    private static partial void LogStillAway(ILogger logger, int failures, long bytes, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Kafka takes the spilled events again, after {Failures} failed tries")]
    private static partial void LogResending(ILogger logger, int failures);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Kafka producer {Level}: {Message}")]
    private static partial void LogKafka(ILogger logger, string level, string message);
}
