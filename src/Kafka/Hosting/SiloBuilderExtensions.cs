using Orleans.Hosting;

namespace StreamGrains.Kafka.Hosting;

/// <summary>Adds Kafka streams to a silo.</summary>
public static class SiloBuilderExtensions
{
    /// <summary>Adds a Kafka persistent stream provider named <paramref name="name"/>.</summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="name">The provider name, as grains ask for it (<c>this.GetStreamProvider(name)</c>).</param>
    /// <param name="configureOptions">Sets the Kafka options: bootstrap servers, topics, consumer group...</param>
    public static ISiloBuilder AddKafkaStreams(this ISiloBuilder builder, string name, Action<KafkaStreamOptions> configureOptions) =>
        builder.AddKafkaStreams(name, configurator => configurator.ConfigureKafka(configureOptions));

    /// <summary>Adds a Kafka persistent stream provider named <paramref name="name"/>.</summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="name">The provider name.</param>
    /// <param name="configure">Configures the provider: options, cache, data adapter, pulling agent, balancer.</param>
    public static ISiloBuilder AddKafkaStreams(this ISiloBuilder builder, string name, Action<SiloKafkaStreamConfigurator> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var configurator = new SiloKafkaStreamConfigurator(name, configureServices => builder.ConfigureServices(configureServices));
        configure(configurator);
        return builder;
    }
}
