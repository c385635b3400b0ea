using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using StreamGrains.Client;
using StreamGrains.Client.Cluster;
using StreamGrains.Kafka.Publishing;

namespace StreamGrains.Hosting;

/// <summary>Adds the SDK's cluster mode to a host: an Orleans client of the StreamGrains cluster behind <see cref="IStreamGrainsClient"/>.</summary>
public static class StreamGrainsClusterClientHostingExtensions
{
    /// <summary>
    /// Adds an Orleans client of the StreamGrains cluster and registers <see cref="IStreamGrainsClient"/> on it (queries
    /// answered by the gateway silos, as their HTTP API answers them), and, with
    /// <see cref="StreamGrainsClusterClientOptions.KafkaBootstrapServers"/>, an in-process publisher that produces to
    /// Kafka (idempotent, acks=all) and keeps what Kafka cannot take in a local spill log, sent in order once it can.
    /// The client connects when the host starts. A host has one Orleans client (or silo): not beside a silo.
    /// </summary>
    /// <param name="builder">The host.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The host.</returns>
    /// <exception cref="OptionsValidationException">An option is invalid (thrown here, before the host is built); the message names it.</exception>
    /// <example>
    /// <code>
    /// builder.AddStreamGrainsClusterClient(o =>
    /// {
    ///     o.ClusteringConnectionString = builder.Configuration.GetConnectionString("StreamGrains");
    ///     o.KafkaBootstrapServers = "kafka:9092";
    ///     o.SpillDirectory = "/var/lib/my-service/spill";
    /// });
    /// </code>
    /// </example>
    public static IHostApplicationBuilder AddStreamGrainsClusterClient(this IHostApplicationBuilder builder, Action<StreamGrainsClusterClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new StreamGrainsClusterClientOptions();
        configure(options);
        if (options.Validate() is { Count: > 0 } errors)
        {
            throw new OptionsValidationException(nameof(StreamGrainsClusterClientOptions), typeof(StreamGrainsClusterClientOptions), errors);
        }

        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = options.ClusterId;
                o.ServiceId = options.ServiceId;
            });
            if (options.Gateways.Count > 0)
            {
                // Names are resolved when the client starts (not when the options are checked): a silo's name may
                // appear in DNS only after the service was configured.
                client.UseStaticClustering(o => o.Gateways = options.Gateways.Select(g => Orleans.Runtime.Utils.ToGatewayUri(StreamGrainsClusterClientOptions.ResolveGateway(g))).ToList());
            }
            else
            {
                client.UseAdoNetClustering(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = options.ClusteringConnectionString;
                });
            }
        });

        builder.Services.AddSingleton(options);
        if (!string.IsNullOrWhiteSpace(options.KafkaBootstrapServers))
        {
            builder.Services.AddSingleton(sp => new SpillingProducer(
                new SpillingProducerOptions
                {
                    Producer = new Confluent.Kafka.ProducerConfig(new Dictionary<string, string>(options.KafkaProperties)) { BootstrapServers = options.KafkaBootstrapServers, ClientId = "streamgrains-cluster-client" },
                    Topic = options.InputTopic,
                    SpillDirectory = options.SpillDirectory!,
                    PublishTimeout = options.PublishTimeout,
                    MaxSpillBytes = options.MaxSpillBytes,
                    MetricPrefix = "streamgrains.client",
                },
                sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
                sp.GetRequiredService<ILogger<SpillingProducer>>()));
            builder.Services.AddHostedService(sp => sp.GetRequiredService<SpillingProducer>());
        }

        builder.Services.AddSingleton<IStreamGrainsClient>(sp => new ClusterStreamGrainsClient(
            sp.GetRequiredService<IClusterClient>(),
            options,
            sp.GetService<SpillingProducer>()));
        return builder;
    }
}
