using System.Net;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Streams;
using StreamGrains.Events;
using StreamGrains.Kafka;
using Microsoft.AspNetCore.Routing;
using StreamGrains.Kafka.Health;
using StreamGrains.Kafka.Hosting;
using StreamGrains.Silo.Api;
using StreamGrains.Silo.Configuration;
using StreamGrains.Silo.Demo;
using StreamGrains.Silo.Health;
using StreamGrains.Silo.Kafka;

namespace StreamGrains.Silo.Hosting;

/// <summary>Builds the silo host: ASP.NET Core cohosting an Orleans silo, wired from the <c>StreamGrains</c> section.</summary>
internal static class StreamGrainsSilo
{
    /// <summary>Thrown when the configuration is invalid; the message lists every problem, each naming its setting.</summary>
    internal sealed class ConfigurationException(IReadOnlyList<string> errors)
        : Exception(errors.Count == 1
            ? "Invalid configuration: " + errors[0]
            : "Invalid configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  " + e)))
    {
        public IReadOnlyList<string> Errors { get; } = errors;
    }

    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Configuration.AddCommandLine(args, CommandLineSwitches.Mappings);

        var options = ReadOptions(builder.Configuration);
        builder.Services.AddSingleton<IValidateOptions<StreamGrainsOptions>, StreamGrainsOptionsValidator>();
        builder.Services.AddOptions<StreamGrainsOptions>().Bind(builder.Configuration.GetSection(StreamGrainsOptions.SectionName)).ValidateOnStart();
        if (StartupChecks.PortsInUse(options, builder.Configuration) is { Count: > 0 } portErrors)
        {
            throw new ConfigurationException(portErrors);
        }

        var kafka = KafkaEnvironment.Create(options);
        if (StartupChecks.KafkaProblems(kafka, options.Kafka.ConnectTimeout) is { Count: > 0 } kafkaErrors)
        {
            kafka.Dispose();
            throw new ConfigurationException(kafkaErrors);
        }

        builder.Services.AddSingleton(kafka);
        builder.Services.AddSingleton<KafkaMetadataReader>();
        builder.Services.AddSingleton<PartitionOwnership>();
        builder.Services.AddSingleton<SiloReadiness>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<SiloReadiness>());
        builder.Services.AddSingleton(sp => new KafkaStreamHealthCheck(
            kafka.StreamOptions,
            TimeSpan.FromSeconds(2),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<KafkaStreamHealthCheck>()));
        builder.Services.AddSingleton<KafkaPartitionsHealthCheck>();
        builder.Services.AddHealthChecks()
            .AddCheck<SiloReadiness>("orleans-silo", tags: ["ready"])
            .AddCheck<KafkaStreamHealthCheck>("kafka", tags: ["ready"])
            .AddCheck<KafkaPartitionsHealthCheck>("kafka-partitions", tags: ["ready"]);

        builder.UseOrleans(silo => ConfigureSilo(silo, options, kafka));

        if (options.Demo.Enabled ?? kafka.IsEmbedded)
        {
            builder.Services.AddSingleton<DemoTrafficGenerator>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<DemoTrafficGenerator>());
        }

        builder.AddStreamGrainsTelemetry(options.Telemetry, $"{Environment.MachineName}:{options.Cluster.SiloPort}");
        builder.Services.AddProblemDetails();
        builder.Services.AddHostedService<StartupBanner>();

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = HealthResponses.WriteAsync })
            .WithMetadata(new HttpMethodMetadata(["GET", "HEAD"]));
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready"), ResponseWriter = HealthResponses.WriteAsync })
            .WithMetadata(new HttpMethodMetadata(["GET", "HEAD"]));
        app.MapInfoEndpoints();
        app.MapStreamGrainsTelemetry(options.Telemetry);
        app.MapOrleansDashboard(routePrefix: "/dashboard");
        app.MapGet("/", () => Results.Redirect("/dashboard/")).ExcludeFromDescription();
        return app;
    }

    /// <summary>Binds and validates the <c>StreamGrains</c> section before anything starts.</summary>
    internal static StreamGrainsOptions ReadOptions(IConfiguration configuration)
    {
        StreamGrainsOptions options;
        try
        {
            options = configuration.GetSection(StreamGrainsOptions.SectionName).Get<StreamGrainsOptions>() ?? new StreamGrainsOptions();
        }
        catch (InvalidOperationException ex)
        {
            // The binder names the key and the type it could not convert to, e.g. "StreamGrains:Kafka:Partitions".
            throw new ConfigurationException([ex.Message]);
        }

        var commandLineKeys = configuration is IConfigurationRoot root
            ? root.Providers.OfType<Microsoft.Extensions.Configuration.CommandLine.CommandLineConfigurationProvider>().SelectMany(p => p.GetChildKeys([], null))
            : [];
        var errors = UnknownSettings.Find(configuration, commandLineKeys).Concat(StreamGrainsOptionsValidator.Errors(options)).ToList();
        return errors.Count == 0 ? options : throw new ConfigurationException(errors);
    }

    private static void ConfigureSilo(ISiloBuilder silo, StreamGrainsOptions options, KafkaEnvironment kafkaEnvironment)
    {
        // Orleans' watchdog can read its participant-check timestamp before setting it and warn of a stall as long as the
        // machine's uptime on a clean start. Its membership clock counts from the process start instead, so that reading
        // measures (harmlessly) the seconds the silo took to start; real stalls still show.
        silo.Services.AddKeyedSingleton<TimeProvider>(TimeProviderNames.Membership, new ProcessClock());

        var cluster = options.Cluster;
        var primary = cluster.PrimarySiloPort is { } primaryPort ? new IPEndPoint(IPAddress.Loopback, primaryPort) : null;
        silo.UseLocalhostClustering(cluster.SiloPort, cluster.GatewayPort, primary, cluster.ServiceId, cluster.ClusterId);
        silo.Configure<ClusterMembershipOptions>(membership =>
        {
            // Notice a dead silo within seconds rather than a minute: partitions move sooner.
            membership.ProbeTimeout = TimeSpan.FromSeconds(2);
            membership.NumMissedProbesLimit = 3;
        });

        switch (Enum.Parse<StorageKind>(options.Storage.Kind, ignoreCase: true))
        {
            case StorageKind.Memory:
                silo.AddMemoryGrainStorageAsDefault();
                silo.AddMemoryGrainStorage("PubSubStore");
                break;
        }

        silo.AddKafkaStreams(StreamNames.Provider, kafka =>
        {
            kafka.ConfigureKafka(o => kafkaEnvironment.FillStreamOptions(o));
            kafka.ConfigureCache(cache =>
            {
                cache.MaxRecords = options.Kafka.CacheMaxRecords;
                cache.MaxBytes = options.Kafka.CacheMaxBytes;
            });
            kafka.ConfigurePullingAgent(agent => agent.Configure(o => o.MaxEventDeliveryTime = options.Kafka.MaxEventDeliveryTime));
            kafka.UseDataAdapter(_ => new StreamEventDataAdapter());
            if (!options.Kafka.ExplicitSubscriptions)
            {
                kafka.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
            }
        });
        silo.AddActivityPropagation(); // grain calls continue the trace of the Kafka record that caused them
        silo.AddDashboard();
    }
}
