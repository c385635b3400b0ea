using Orleans.Hosting;

namespace StreamGrains.Kafka.Hosting;

/// <summary>Adds Kafka streams to a cluster client.</summary>
public static class ClientBuilderExtensions
{
    /// <summary>Adds a Kafka persistent stream provider named <paramref name="name"/> for publishing from the client.</summary>
    /// <param name="builder">The client builder.</param>
    /// <param name="name">The provider name, the same as on the silos.</param>
    /// <param name="configureOptions">Sets the Kafka options.</param>
    public static IClientBuilder AddKafkaStreams(this IClientBuilder builder, string name, Action<KafkaStreamOptions> configureOptions) =>
        builder.AddKafkaStreams(name, configurator => configurator.ConfigureKafka(configureOptions));

    /// <summary>Adds a Kafka persistent stream provider named <paramref name="name"/> for publishing from the client.</summary>
    /// <param name="builder">The client builder.</param>
    /// <param name="name">The provider name.</param>
    /// <param name="configure">Configures the provider.</param>
    public static IClientBuilder AddKafkaStreams(this IClientBuilder builder, string name, Action<ClusterClientKafkaStreamConfigurator> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        configure(new ClusterClientKafkaStreamConfigurator(name, builder));
        return builder;
    }
}
