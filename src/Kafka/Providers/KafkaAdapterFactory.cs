using System.Collections.Concurrent;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using StreamGrains.Kafka.Checkpointing;
using StreamGrains.Kafka.DataAdapters;
using StreamGrains.Kafka.Statistics;

namespace StreamGrains.Kafka.Providers;

/// <summary>
/// Builds the Kafka stream provider's parts: the queue mapper (a queue per partition), the adapter, the per-partition
/// caches and checkpointers. Partition counts not given in the options are read from Kafka when it is created.
/// </summary>
public sealed partial class KafkaAdapterFactory : IQueueAdapterFactory, IDisposable
{
    private readonly string _name;
    private readonly KafkaStreamOptions _options;
    private readonly IKafkaDataAdapter _dataAdapter;
    private readonly IKafkaCommitGate[] _gates;
    private readonly Observers.IKafkaReadObserver[] _observers;
    private readonly KafkaStreamMetrics _metrics;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<QueueId, KafkaPartitionContext> _partitions = new();
    private readonly KafkaQueueMapper _mapper;
    private readonly KafkaQueueAdapterCache _cache;
    private readonly string _ownerName;
    private readonly Lazy<IProducer<byte[]?, byte[]?>> _producer;
    private readonly Lazy<KafkaDeadLetterPublisher> _deadLetters;
    private readonly KafkaRecordFetcher _fetcher;
    private readonly ConcurrentDictionary<string, Lazy<KafkaTopicReader>> _readers = new(StringComparer.Ordinal);

    private KafkaAdapterFactory(
        string name,
        KafkaStreamOptions options,
        KafkaQueueCacheOptions cacheOptions,
        IKafkaDataAdapter dataAdapter,
        IEnumerable<IKafkaCommitGate> gates,
        IEnumerable<Observers.IKafkaReadObserver> observers,
        KafkaStreamMetrics metrics,
        KafkaDeliveryErrors errors,
        TimeSpan maxEventDeliveryTime,
        string ownerName,
        TimeProvider time,
        ILoggerFactory loggerFactory)
    {
        _name = name;
        _options = options;
        _dataAdapter = dataAdapter;
        _gates = gates.ToArray();
        _observers = observers.ToArray();
        _metrics = metrics;
        _ownerName = ownerName;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<KafkaAdapterFactory>();
        _mapper = new KafkaQueueMapper(ResolveTopics());
        _cache = new KafkaQueueAdapterCache(PartitionContext, cacheOptions, metrics, errors, maxEventDeliveryTime, time, loggerFactory);
        _producer = new Lazy<IProducer<byte[]?, byte[]?>>(CreateProducer, LazyThreadSafetyMode.ExecutionAndPublication);
        _fetcher = new KafkaRecordFetcher(options, $"{ownerName}-{name}-dlq-fetch");
        _deadLetters = new Lazy<KafkaDeadLetterPublisher>(
            () => new KafkaDeadLetterPublisher(_producer.Value, _options, _dataAdapter, _fetcher, _metrics, _loggerFactory.CreateLogger<KafkaDeadLetterPublisher>()),
            LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The provider name.</summary>
    public string Name => _name;

    /// <summary>The consumer group.</summary>
    public string ConsumerGroup => _options.ConsumerGroup;

    /// <summary>
    /// The partitions this process has read, with their offsets; the owner, state and lag are set while this process
    /// reads it.
    /// </summary>
    public IReadOnlyList<KafkaPartitionStatus> Partitions
    {
        get
        {
            var now = DateTime.UtcNow;
            return _partitions.Values
                .OrderBy(p => p.Topic, StringComparer.Ordinal).ThenBy(p => p.Partition.Partition.Value)
                .Select(p => p.Status(now, _options.UnreadableAfter))
                .ToList();
        }
    }

    /// <summary>The name this process reads partitions under (its silo address), as in <see cref="KafkaPartitionStatus.Owner"/>.</summary>
    public string OwnerName => _ownerName;

    /// <summary>Raised when this process starts or stops reading a partition.</summary>
    public event Action? OwnershipChanged;

    /// <summary>Whether this process reads <paramref name="partition"/> of <paramref name="topic"/> now.</summary>
    /// <param name="topic">A topic of the provider.</param>
    /// <param name="partition">A partition.</param>
    public bool IsReading(string topic, int partition)
    {
        foreach (var context in _partitions.Values)
        {
            if (context.Partition.Partition.Value == partition && context.Topic == topic)
            {
                return context.Owner == _ownerName;
            }
        }

        return false;
    }

    /// <summary>The topic and partition the events of <paramref name="streamId"/> come from (the key's murmur2 partition).</summary>
    /// <param name="streamId">A stream of one of the provider's namespaces.</param>
    public (string Topic, int Partition) PartitionOfStream(StreamId streamId)
    {
        var (topic, partition) = _mapper.PartitionOfStream(streamId);
        return (topic.Topic, partition);
    }

    /// <summary>The topics with their partition counts.</summary>
    public IReadOnlyDictionary<string, int> TopicPartitions => _mapper.Topics.ToDictionary(t => t.Topic, t => t.Partitions, StringComparer.Ordinal);

    /// <summary>Creates the factory for the provider named <paramref name="name"/> (Orleans calls this).</summary>
    /// <param name="services">The silo's or client's services.</param>
    /// <param name="name">The provider name.</param>
    public static KafkaAdapterFactory Create(IServiceProvider services, string name)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.GetOptionsByName<KafkaStreamOptions>(name);
        var cacheOptions = services.GetOptionsByName<KafkaQueueCacheOptions>(name);
        var errors = KafkaStreamOptionsValidator.Errors(options, cacheOptions, name);
        if (errors.Count > 0)
        {
            throw new OrleansConfigurationException(string.Join(Environment.NewLine, errors));
        }

        var dataAdapter = services.GetKeyedService<IKafkaDataAdapter>(name) ?? services.GetService<IKafkaDataAdapter>() ?? new KafkaRawDataAdapter();
        var owner = services.GetService<ILocalSiloDetails>()?.SiloAddress.ToParsableString() ?? $"client-{Environment.ProcessId}";
        var factory = new KafkaAdapterFactory(
            name,
            options,
            cacheOptions,
            dataAdapter,
            services.GetServices<IKafkaCommitGate>(),
            services.GetServices<Observers.IKafkaReadObserver>(),
            services.GetRequiredService<KafkaStreamMetrics>(),
            services.GetService<KafkaDeliveryErrors>() ?? new KafkaDeliveryErrors(),
            services.GetOptionsByName<StreamPullingAgentOptions>(name).MaxEventDeliveryTime,
            owner,
            services.GetService<TimeProvider>() ?? TimeProvider.System,
            services.GetRequiredService<ILoggerFactory>());
        services.GetRequiredService<KafkaAdapterFactoryRegistry>().Add(factory);
        return factory;
    }

    /// <inheritdoc />
    public Task<IQueueAdapter> CreateAdapter()
    {
        IQueueAdapter adapter = new KafkaAdapter(_name, _options, _mapper, PartitionContext, ReaderOf, _producer.Value, _dataAdapter, _deadLetters.Value, _observers, _metrics, _ownerName, _loggerFactory);
        return Task.FromResult(adapter);
    }

    /// <inheritdoc />
    public IQueueAdapterCache GetQueueAdapterCache() => _cache;

    /// <inheritdoc />
    public IStreamQueueMapper GetStreamQueueMapper() => _mapper;

    /// <inheritdoc />
    public Task<IStreamFailureHandler> GetDeliveryFailureHandler(QueueId queueId) =>
        Task.FromResult<IStreamFailureHandler>(new KafkaDeliveryFailureHandler(_name, PartitionContext(queueId), _deadLetters.Value, _logger));

    /// <summary>The partition a stream's events are written to.</summary>
    /// <param name="streamId">The stream.</param>
    public (string Topic, int Partition) PartitionOf(StreamId streamId)
    {
        var (topic, partition) = _mapper.PartitionOfStream(streamId);
        return (topic.Topic, partition);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var reader in _readers.Values.Where(r => r.IsValueCreated))
        {
            reader.Value.Dispose();
        }

        _fetcher.Dispose();
        if (_producer.IsValueCreated)
        {
            _producer.Value.Flush(TimeSpan.FromSeconds(10));
            _producer.Value.Dispose();
        }
    }

    /// <summary>The reader of a topic's partitions on this silo: one consumer for all of them, made when the first is read.</summary>
    private KafkaTopicReader ReaderOf(string topic) =>
        _readers.GetOrAdd(topic, t => new Lazy<KafkaTopicReader>(
            () => new KafkaTopicReader(_options, t, $"{_ownerName}-{_name}-{t}", _loggerFactory.CreateLogger<KafkaTopicReader>()),
            LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    private KafkaPartitionContext PartitionContext(QueueId queue) =>
        _partitions.GetOrAdd(queue, q =>
        {
            var (topic, partition) = _mapper.PartitionOf(q);
            var tp = new TopicPartition(topic, partition);
            return new KafkaPartitionContext(tp, new KafkaCheckpointer(tp, _gates, _metrics, _loggerFactory.CreateLogger<KafkaCheckpointer>()))
            {
                OwnershipChanged = () => OwnershipChanged?.Invoke(),
            };
        });

    private IProducer<byte[]?, byte[]?> CreateProducer() =>
        new ProducerBuilder<byte[]?, byte[]?>(KafkaClientConfigs.Producer(_options, $"{_ownerName}-{_name}-producer"))
            .SetErrorHandler((_, error) => LogProducerError(_logger, _name, error.Code.ToString(), error.Reason))
            .Build();

    private List<KafkaTopicLayout> ResolveTopics()
    {
        var unknown = _options.Topics.Where(t => t.Partitions == 0).Select(t => t.Name).ToList();
        var discovered = new Dictionary<string, int>(StringComparer.Ordinal);
        if (unknown.Count > 0)
        {
            using var admin = new AdminClientBuilder(KafkaClientConfigs.Admin(_options, $"{_ownerName}-{_name}-metadata")).Build();
            foreach (var topic in unknown)
            {
                Metadata metadata;
                try
                {
                    metadata = admin.GetMetadata(topic, _options.MetadataTimeout);
                }
                catch (KafkaException ex)
                {
                    throw new OrleansConfigurationException($"Kafka stream provider '{_name}': could not read the partition count of topic '{topic}' from {_options.BootstrapServers}: {ex.Error.Reason}. Is Kafka up? Or set the topic's partition count in the options.", ex);
                }

                var described = metadata.Topics.SingleOrDefault(t => t.Topic == topic);
                if (described is null || described.Error.IsError || described.Partitions.Count == 0)
                {
                    throw new OrleansConfigurationException($"Kafka stream provider '{_name}': topic '{topic}' does not exist at {_options.BootstrapServers} ({described?.Error.Reason ?? "no metadata"}). Create it first.");
                }

                discovered[topic] = described.Partitions.Count;
            }
        }

        return _options.Topics
            .Select(t => new KafkaTopicLayout(t.Name, t.Namespace, t.Partitions > 0 ? t.Partitions : discovered[t.Name], t.Consume))
            .ToList();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka producer of stream provider {Provider}: {Code} {Reason}")]
    private static partial void LogProducerError(ILogger logger, string provider, string code, string reason);
}
