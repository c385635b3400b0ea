using System.Diagnostics;
using Confluent.Kafka;
using ErrorCode = Confluent.Kafka.ErrorCode;
using Microsoft.Extensions.Options;
using StreamGrains.Events;
using StreamGrains.Silo.Configuration;
using StreamGrains.Silo.Kafka;

namespace StreamGrains.Silo.Demo;

/// <summary>Produces demo events into the input topic at a steady rate, keyed by entity.</summary>
internal sealed partial class DemoTrafficGenerator(
    KafkaEnvironment kafka,
    IOptions<StreamGrainsOptions> options,
    ILogger<DemoTrafficGenerator> logger) : BackgroundService
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ReportEvery = TimeSpan.FromSeconds(30);
    private long _delivered;
    private long _failed;

    /// <summary>Events Kafka acknowledged so far.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value.Demo;
        var factory = new DemoEventFactory(settings, Environment.TickCount);
        using var producer = new ProducerBuilder<string, byte[]>(kafka.ProducerConfig("streamgrains-demo"))
            .SetLogHandler((_, message) => LogKafka(logger, message.Level.ToString(), message.Message))
            .Build();
        Action<DeliveryReport<string, byte[]>> onDelivery = report =>
        {
            if (report.Error.IsError)
            {
                if (Interlocked.Increment(ref _failed) == 1)
                {
                    LogDeliveryFailed(logger, report.Error.Reason);
                }
            }
            else
            {
                Interlocked.Increment(ref _delivered);
            }
        };

        LogStarted(logger, settings.EventsPerSecond, factory.EntityCount, factory.SuspiciousCards.Count, kafka.InputTopic);
        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        long produced = 0;
        using var timer = new PeriodicTimer(Tick);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var due = (long)(clock.Elapsed.TotalSeconds * settings.EventsPerSecond);
                // Never try to catch up more than a second's worth after a stall.
                produced = Math.Max(produced, due - settings.EventsPerSecond);
                for (; produced < due; produced++)
                {
                    var evt = factory.Next();
                    ProduceOne(producer, evt, onDelivery);
                }

                if (clock.Elapsed - lastReport >= ReportEvery)
                {
                    lastReport = clock.Elapsed;
                    LogProgress(logger, Delivered, Interlocked.Read(ref _failed));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            producer.Flush(TimeSpan.FromSeconds(5));
            LogStopped(logger, Delivered);
        }
    }

    private void ProduceOne(IProducer<string, byte[]> producer, StreamEvent evt, Action<DeliveryReport<string, byte[]>> onDelivery)
    {
        try
        {
            producer.Produce(kafka.InputTopic, new Message<string, byte[]> { Key = evt.Entity, Value = StreamEventJson.Serialize(evt) }, onDelivery);
        }
        catch (ProduceException<string, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
        {
            // Kafka is down or slow: the local queue is full. Drop this demo event rather than block the silo.
            Interlocked.Increment(ref _failed);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo traffic: {EventsPerSecond} events/s about {Entities} entities ({Suspicious} suspicious cards) into '{Topic}'")]
    private static partial void LogStarted(ILogger logger, int eventsPerSecond, int entities, int suspicious, string topic);

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo traffic: {Delivered} events delivered, {Failed} failed so far")]
    private static partial void LogProgress(ILogger logger, long delivered, long failed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Demo traffic: Kafka refused an event: {Reason}")]
    private static partial void LogDeliveryFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo traffic stopped after {Delivered} events")]
    private static partial void LogStopped(ILogger logger, long delivered);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Kafka producer {Level}: {Message}")]
    private static partial void LogKafka(ILogger logger, string level, string message);
}
