using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;
using StreamGrains.Events;
using StreamGrains.Hosting;
using StreamGrains.Integration.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using StreamGrains.Kafka.Checkpointing;
using StreamGrains.Kafka.Embedded;
using StreamGrains.Kafka.Providers;
using StreamGrains.Kafka.Hosting;
using StreamGrains.Silo.Kafka;

namespace StreamGrains.Integration.Tests;

/// <summary>An embedded Kafka broker and an Orleans <see cref="TestCluster"/> whose silos read it through the provider.</summary>
internal sealed class KafkaTestCluster : IAsyncDisposable
{
    public const string ProviderName = "kafka";
    public const string Namespace = "events";
    public const string PublishedTopic = "published";
    public const int Partitions = 8;

    private KafkaTestCluster(EmbeddedKafkaCluster kafka, string group)
    {
        Kafka = kafka;
        Group = group;
    }

    public EmbeddedKafkaCluster Kafka { get; }

    public string Group { get; }

    public TestCluster? Cluster { get; private set; }

    public static KafkaTestCluster StartBroker()
    {
        var kafka = EmbeddedKafkaCluster.Start();
        kafka.CreateTopic(Namespace, Partitions);
        kafka.CreateTopic(Namespace + ".dlq", Partitions);
        kafka.CreateTopic(PublishedTopic, Partitions);
        DeliveryLog.Clear();
        TestCommitGate.Reset();
        return new KafkaTestCluster(kafka, $"group-{Guid.NewGuid():N}");
    }

    /// <summary>Starts the silos.</summary>
    /// <param name="explicitSubscriptions">
    /// Orleans' grain-based pub-sub (explicit subscriptions, e.g. rewinds) instead of implicit subscriptions only. It keeps
    /// subscriptions in a grain with storage; when that grain's silo dies, a stream's registration can fail and Orleans
    /// then treats the batch that triggered it as having no consumer, so the failure tests run implicit-only.
    /// </param>
    /// <param name="maxEventDeliveryTime">How long the pulling agent retries a failing consumer (Orleans' default: a minute).</param>
    public async Task<TestCluster> StartSilosAsync(int silos, TimeSpan? commitInterval = null, int maxRecordBytes = 1024 * 1024, bool explicitSubscriptions = false, TimeSpan? maxEventDeliveryTime = null)
    {
        var builder = new TestClusterBuilder((short)silos);
        builder.Properties["Kafka:Bootstrap"] = Kafka.BootstrapServers;
        builder.Properties["Kafka:Group"] = Group;
        builder.Properties["Kafka:CommitIntervalMs"] = ((int)(commitInterval ?? TimeSpan.FromSeconds(1)).TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        builder.Properties["Kafka:MaxRecordBytes"] = maxRecordBytes.ToString(CultureInfo.InvariantCulture);
        builder.Properties["Kafka:ExplicitSubscriptions"] = explicitSubscriptions ? "true" : "false";
        builder.Properties["Kafka:MaxEventDeliveryTimeMs"] = ((int)(maxEventDeliveryTime ?? TimeSpan.FromMinutes(1)).TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        Cluster = cluster;
        return cluster;
    }

    public async Task StopSilosAsync()
    {
        if (Cluster is { } cluster)
        {
            Cluster = null;
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    /// <summary>Produces valid events as an external application would: keyed by entity, the Java client's partitioner.</summary>
    public IProducer<string, byte[]> Producer() =>
        new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = Kafka.BootstrapServers,
            EnableIdempotence = true,
            Partitioner = Partitioner.Murmur2Random,
            LingerMs = 5,
        }).Build();

    public static Message<string, byte[]> Event(string key, int sequence) => new()
    {
        Key = key,
        Value = StreamEventJson.Serialize(new StreamEvent
        {
            Id = $"{key}#{sequence}",
            Entity = key,
            Type = "payment",
            Timestamp = DateTimeOffset.UtcNow,
            Value = sequence,
        }),
    };

    /// <summary>The silo reading each partition now, from the providers of the in-process silos.</summary>
    public Dictionary<int, string> PartitionOwners()
    {
        var owners = new Dictionary<int, string>();
        foreach (var silo in Cluster!.Silos.OfType<InProcessSiloHandle>())
        {
            var factory = silo.SiloHost.Services.GetRequiredService<KafkaAdapterFactoryRegistry>().Get(ProviderName);
            foreach (var partition in factory?.Partitions ?? [])
            {
                if (partition.Owner is { } owner && partition.Topic == Namespace)
                {
                    owners[partition.Partition] = owner;
                }
            }
        }

        return owners;
    }

    /// <summary>The group's committed offset of every partition of the input topic (-1 where none).</summary>
    public Dictionary<int, long> CommittedOffsets()
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = Kafka.BootstrapServers, GroupId = Group, EnableAutoCommit = false }).Build();
        return consumer.Committed(Enumerable.Range(0, Partitions).Select(p => new TopicPartition(Namespace, p)), TimeSpan.FromSeconds(10))
            .ToDictionary(c => c.Partition.Value, c => c.Offset.IsSpecial ? -1 : c.Offset.Value);
    }

    /// <summary>Polls until <paramref name="condition"/> holds, or fails with <paramref name="describe"/>'s account.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > timeout)
            {
                Assert.Fail($"Timed out after {timeout}: {describe()}");
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopSilosAsync();
        Kafka.Dispose();
    }

    private static void Configure(StreamGrains.Kafka.KafkaStreamOptions options, IConfiguration configuration)
    {
        options.BootstrapServers = configuration["Kafka:Bootstrap"]!;
        options.ConsumerGroup = configuration["Kafka:Group"]!;
        options.CommitInterval = TimeSpan.FromMilliseconds(int.Parse(configuration["Kafka:CommitIntervalMs"]!, CultureInfo.InvariantCulture));
        options.MaxRecordBytes = int.Parse(configuration["Kafka:MaxRecordBytes"]!, CultureInfo.InvariantCulture);
        options.ConsumerProperties["fetch.wait.max.ms"] = "50"; // the embedded broker answers a fetch only when its wait is over
        options.AddTopic(Namespace);
        options.Topics.Add(new StreamGrains.Kafka.KafkaTopicOptions { Name = PublishedTopic, Partitions = Partitions, Consume = false });
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.AddKafkaStreams(ProviderName, kafka =>
            {
                kafka.ConfigureKafka(options => KafkaTestCluster.Configure(options, configuration));
                kafka.UseDataAdapter(_ => new StreamEventDataAdapter());
                if (configuration["Kafka:ExplicitSubscriptions"] != "true")
                {
                    kafka.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
                }
            });
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            var configuration = siloBuilder.Configuration;
            siloBuilder.AddMemoryGrainStorage("PubSubStore");
            siloBuilder.WithoutProfiles(); // the tests' own consumers read the events
            siloBuilder.Services.AddSingleton<IKafkaCommitGate, TestCommitGate>();
            siloBuilder.Services.Configure<StreamPullingAgentOptions>(KafkaTestCluster.ProviderName, options =>
                options.MaxEventDeliveryTime = TimeSpan.FromMilliseconds(int.Parse(configuration["Kafka:MaxEventDeliveryTimeMs"]!, CultureInfo.InvariantCulture)));
            siloBuilder.AddActivityPropagation();
            // Notice a killed silo within seconds, but not so eagerly that a busy CI machine declares live silos dead.
            siloBuilder.Configure<ClusterMembershipOptions>(options =>
            {
                options.ProbeTimeout = TimeSpan.FromSeconds(2);
                options.NumMissedProbesLimit = 3;
            });
            siloBuilder.AddKafkaStreams(ProviderName, kafka =>
            {
                kafka.ConfigureKafka(options => KafkaTestCluster.Configure(options, configuration));
                kafka.UseDataAdapter(_ => new StreamEventDataAdapter());
                if (configuration["Kafka:ExplicitSubscriptions"] != "true")
                {
                    kafka.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
                }
            });
        }
    }
}
