using System.Threading.Channels;
using Confluent.Kafka;
using StreamGrains.Decisions;
using StreamGrains.Silo.Kafka;

namespace StreamGrains.Silo.Decisions;

/// <summary>
/// Every silo reads the whole decisions topic (assigned, not as a group member, committing nothing): it keeps the most
/// recent decisions of the cluster for <c>GET /api/alerts</c> and passes each new one to the live
/// <c>GET /api/alerts/stream</c> subscribers, so that whichever silo answers, the answer is the cluster's.
/// </summary>
internal sealed partial class DecisionFeed(KafkaEnvironment kafka, ILogger<DecisionFeed> logger) : BackgroundService
{
    /// <summary>Decisions kept for <c>GET /api/alerts</c>.</summary>
    public const int Capacity = 2_000;

    /// <summary>Decisions read back from each partition at start-up.</summary>
    private const int Backfill = 500;

    private readonly Lock _gate = new();
    private readonly LinkedList<FeedItem> _recent = new();
    private readonly List<Channel<FeedItem>> _subscribers = [];
    /// <summary>The most recent decisions matching the filters, newest first (by decision time).</summary>
    public IReadOnlyList<FeedItem> Recent(string? entity, string? rule, int limit)
    {
        lock (_gate)
        {
            // Newest read first, then (a stable sort) by decision time: decisions made together keep the order they were read in.
            return _recent
                .Reverse()
                .Where(i => Matches(i, entity, rule))
                .OrderByDescending(i => i.Decision.DecidedAt)
                .Take(limit)
                .ToList();
        }
    }

    /// <summary>The decisions read from now on that match the filters (null: any), until <paramref name="cancellationToken"/> fires.</summary>
    public async IAsyncEnumerable<FeedItem> Subscribe(string? entity, string? rule, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<FeedItem>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (_gate)
        {
            _subscribers.Add(channel);
        }

        try
        {
            await foreach (var item in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (Matches(item, entity, rule))
                {
                    yield return item;
                }
            }
        }
        finally
        {
            lock (_gate)
            {
                _subscribers.Remove(channel);
            }
        }
    }

    private static bool Matches(FeedItem item, string? entity, string? rule) =>
        (entity is null || item.Decision.Entity == entity) && (rule is null || item.Decision.Rule == rule);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Consume(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Consume(CancellationToken stoppingToken)
    {
        var config = kafka.ConsumerConfig("streamgrains-decision-feed");
        config.GroupId = $"{kafka.ConsumerGroup}-decision-feed";
        config.StatisticsIntervalMs = 0;
        config.QueuedMaxMessagesKbytes = 4 * 1024;
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(config)
            .SetLogHandler((_, message) => LogKafka(logger, message.Level.ToString(), message.Message))
            .Build();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                Assign(consumer);
                break;
            }
            catch (KafkaException ex)
            {
                LogAssignFailed(logger, kafka.DecisionsTopic, ex.Error.Reason);
                stoppingToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(2));
            }
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(500));
                if (result?.Message?.Value is not { } value)
                {
                    continue;
                }

                if (!DecisionJson.TryParse(value, out var decision))
                {
                    continue; // not ours: the topic is open to others
                }

                Add(new FeedItem(decision!, value));
            }
            catch (ConsumeException ex)
            {
                LogConsumeFailed(logger, ex.Error.Reason);
            }
        }

        consumer.Close();
    }

    private void Assign(IConsumer<Ignore, byte[]> consumer)
    {
        using var admin = new AdminClientBuilder(kafka.AdminConfig("streamgrains-decision-feed-metadata")).Build();
        var metadata = admin.GetMetadata(kafka.DecisionsTopic, TimeSpan.FromSeconds(10));
        var topic = metadata.Topics.Single(t => t.Topic == kafka.DecisionsTopic);
        if (topic.Error.IsError)
        {
            throw new KafkaException(topic.Error);
        }

        var assignment = new List<TopicPartitionOffset>();
        foreach (var partition in topic.Partitions)
        {
            var tp = new TopicPartition(kafka.DecisionsTopic, partition.PartitionId);
            var offsets = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10));
            assignment.Add(new TopicPartitionOffset(tp, Math.Max(offsets.Low.Value, offsets.High.Value - Backfill)));
        }

        consumer.Assign(assignment);
    }

    private void Add(FeedItem item)
    {
        lock (_gate)
        {
            _recent.AddLast(item);
            if (_recent.Count > Capacity)
            {
                _recent.RemoveFirst();
            }

            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(item);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The decision feed cannot read '{Topic}' yet: {Reason}")]
    private static partial void LogAssignFailed(ILogger logger, string topic, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The decision feed could not read a record: {Reason}")]
    private static partial void LogConsumeFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Kafka consumer {Level}: {Message}")]
    private static partial void LogKafka(ILogger logger, string level, string message);
}

/// <summary>A decision as read from the topic, with its record value (the contract's JSON) to pass on unchanged.</summary>
/// <param name="Decision">The decision.</param>
/// <param name="Json">The record value.</param>
internal sealed record FeedItem(Decision Decision, byte[] Json);
