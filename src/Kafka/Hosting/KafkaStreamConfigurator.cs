using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Hosting;
using StreamGrains.Kafka.DataAdapters;
using StreamGrains.Kafka.Providers;
using StreamGrains.Kafka.Statistics;

namespace StreamGrains.Kafka.Hosting;

/// <summary>Configures a Kafka stream provider on a silo.</summary>
public sealed class SiloKafkaStreamConfigurator : SiloPersistentStreamConfigurator
{
    /// <summary>Creates the configurator (use <c>AddKafkaStreams</c>).</summary>
    /// <param name="name">The provider name.</param>
    /// <param name="configureServicesDelegate">Adds services to the silo.</param>
    public SiloKafkaStreamConfigurator(string name, Action<Action<IServiceCollection>> configureServicesDelegate)
        : base(name, configureServicesDelegate, KafkaAdapterFactory.Create)
    {
        ConfigureDelegate(services =>
        {
            KafkaStreamServices.Add(services, name);
            services.TryAddSingleton<KafkaDeliveryErrors>();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IOutgoingGrainCallFilter, KafkaDeliveryErrorCapture>());
            services.AddSingleton<IConfigurationValidator>(sp => new KafkaPullingAgentOptionsValidator(
                sp.GetRequiredService<IOptionsMonitor<StreamPullingAgentOptions>>().Get(name), name));
            if (!services.Any(d => d.ServiceType == typeof(Statistics.KafkaPartitionReporter)))
            {
                services.AddSingleton<Statistics.KafkaPartitionReporter>();
                services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<Statistics.KafkaPartitionReporter>());
            }
        });

        // Orleans polls a queue every 100 ms by default and pauses a queue while a new stream registers with pub-sub;
        // with many entities that pause recurs, so poll sooner. An idle poll costs one non-blocking librdkafka call.
        this.ConfigurePullingAgent(ob => ob.Configure(options => options.GetQueueMsgsTimerPeriod = DefaultPollPeriod));

        // Even shares of the partitions over the active silos, recomputed as silos come and go.
        this.ConfigurePartitionBalancing((services, _) => ActivatorUtilities.CreateInstance<Balancing.KafkaEvenQueueBalancer>(services));
    }

    /// <summary>How often the pulling agent polls a partition's queue unless configured otherwise.</summary>
    public static TimeSpan DefaultPollPeriod { get; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Configures the provider's options.</summary>
    /// <param name="configure">Sets the options.</param>
    public SiloKafkaStreamConfigurator ConfigureKafka(Action<KafkaStreamOptions> configure)
    {
        this.Configure<KafkaStreamOptions>(ob => ob.Configure(configure));
        return this;
    }

    /// <summary>Configures the per-partition queue caches.</summary>
    /// <param name="configure">Sets the options.</param>
    public SiloKafkaStreamConfigurator ConfigureCache(Action<KafkaQueueCacheOptions> configure)
    {
        this.Configure<KafkaQueueCacheOptions>(ob => ob.Configure(configure));
        return this;
    }

    /// <summary>Uses <paramref name="factory"/> to map records to events and back (the default is <see cref="KafkaRawDataAdapter"/>).</summary>
    /// <param name="factory">Makes the data adapter.</param>
    public SiloKafkaStreamConfigurator UseDataAdapter(Func<IServiceProvider, IKafkaDataAdapter> factory)
    {
        ConfigureDelegate(services => services.AddKeyedSingleton(Name, (sp, _) => factory(sp)));
        return this;
    }
}

/// <summary>Configures a Kafka stream provider on a cluster client (publishing only: clients read no partitions).</summary>
public sealed class ClusterClientKafkaStreamConfigurator : ClusterClientPersistentStreamConfigurator
{
    /// <summary>Creates the configurator (use <c>AddKafkaStreams</c>).</summary>
    /// <param name="name">The provider name.</param>
    /// <param name="builder">The client builder.</param>
    public ClusterClientKafkaStreamConfigurator(string name, IClientBuilder builder)
        : base(name, builder, KafkaAdapterFactory.Create)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.ConfigureServices(services => KafkaStreamServices.Add(services, name));
    }

    /// <summary>Configures the provider's options.</summary>
    /// <param name="configure">Sets the options.</param>
    public ClusterClientKafkaStreamConfigurator ConfigureKafka(Action<KafkaStreamOptions> configure)
    {
        this.Configure<KafkaStreamOptions>(ob => ob.Configure(configure));
        return this;
    }

    /// <summary>Uses <paramref name="factory"/> to map events to records.</summary>
    /// <param name="factory">Makes the data adapter.</param>
    public ClusterClientKafkaStreamConfigurator UseDataAdapter(Func<IServiceProvider, IKafkaDataAdapter> factory)
    {
        ConfigureDelegate(services => services.AddKeyedSingleton(Name, (sp, _) => factory(sp)));
        return this;
    }
}

/// <summary>The services every Kafka stream provider needs, silo or client.</summary>
internal static class KafkaStreamServices
{
    public static void Add(IServiceCollection services, string name)
    {
        services.AddMetrics();
        services.TryAddSingleton<KafkaStreamMetrics>();
        services.TryAddSingleton<KafkaAdapterFactoryRegistry>();
        services.ConfigureNamedOptionForLogging<KafkaQueueCacheOptions>(name);
        services.AddSingleton<IConfigurationValidator>(sp => new KafkaStreamOptionsValidator(
            sp.GetRequiredService<IOptionsMonitor<KafkaStreamOptions>>().Get(name),
            sp.GetRequiredService<IOptionsMonitor<KafkaQueueCacheOptions>>().Get(name),
            name));
    }
}
