using System.Net;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Streams;
using StreamGrains.Events;
using StreamGrains.Hosting;
using StreamGrains.Kafka;
using Microsoft.AspNetCore.Routing;
using StreamGrains.Kafka.Checkpointing;
using StreamGrains.Kafka.Health;
using StreamGrains.Kafka.Observers;
using StreamGrains.Storage;
using StreamGrains.Storage.Archive;
using StreamGrains.Kafka.Hosting;
using StreamGrains.Silo.Api;
using StreamGrains.Silo.Api.Security;
using StreamGrains.Silo.Configuration;
using StreamGrains.Silo.Demo;
using StreamGrains.Silo.Health;
using StreamGrains.Silo.Kafka;
using StreamGrains.Silo.Storage;
using StreamGrains.Context;
using StreamGrains.Profiles;
using StreamGrains.Aggregations;
using StreamGrains.Rules;
using StreamGrains.Silo.Aggregations;
using StreamGrains.Silo.Decisions;
using StreamGrains.Silo.Profiles;
using StreamGrains.Storage.Context;

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

    /// <param name="args">The command line.</param>
    /// <param name="configureSilo">More silo configuration, after the platform's: for hosts that embed the silo (benchmarks).</param>
    public static WebApplication Build(string[] args, Action<ISiloBuilder>? configureSilo = null)
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

        var postgres = options.Storage.ParsedKind == StorageKind.Postgres
            ? PostgresStorage.Open(builder.Configuration.GetConnectionString(StorageSettings.ConnectionStringName)!, options.Storage)
            : null;
        if (postgres is not null)
        {
            // Registered through a factory, so that the container disposes it with the host.
            builder.Services.AddSingleton(_ => postgres.DataSource);
            builder.Services.AddSingleton<PostgresMigrator>();
        }

        KafkaEnvironment kafka;
        try
        {
            kafka = KafkaEnvironment.Create(options);
        }
        catch
        {
            postgres?.DataSource.Dispose();
            throw;
        }

        if (StartupChecks.KafkaProblems(kafka, options.Kafka.ConnectTimeout) is { Count: > 0 } kafkaErrors)
        {
            kafka.Dispose();
            postgres?.DataSource.Dispose();
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
        var health = builder.Services.AddHealthChecks()
            .AddCheck<SiloReadiness>("orleans-silo", tags: ["ready"])
            .AddCheck<KafkaStreamHealthCheck>("kafka", tags: ["ready"])
            .AddCheck<KafkaPartitionsHealthCheck>("kafka-partitions", tags: ["ready"]);
        if (postgres is not null && options.Archive.Enabled)
        {
            builder.Services.AddSingleton(new EventArchiveOptions
            {
                BatchRows = options.Archive.BatchRows,
                FlushInterval = options.Archive.FlushInterval,
                MaxPendingRows = options.Archive.MaxPendingRows,
                Retention = options.Archive.Retention,
            });
            builder.Services.AddSingleton<EventArchive>();
            builder.Services.AddSingleton<IKafkaReadObserver>(sp => sp.GetRequiredService<EventArchive>());
            builder.Services.AddSingleton<IKafkaCommitGate>(sp => sp.GetRequiredService<EventArchive>());
            builder.Services.AddHostedService(sp => sp.GetRequiredService<EventArchive>());
            builder.Services.AddSingleton<EventArchiveReader>();
            builder.Services.AddSingleton<EventArchiveHealthCheck>();
            health.AddCheck<EventArchiveHealthCheck>("archive", tags: ["ready"]);
        }

        var demo = options.Demo.Enabled ?? kafka.IsEmbedded;
        AddProfiles(builder, options, kafka, postgres, demo);
        AddAggregations(builder, options, postgres is not null, demo);
        builder.UseOrleans(silo =>
        {
            ConfigureSilo(silo, options, kafka);
            configureSilo?.Invoke(silo);
        });

        if (demo)
        {
            builder.Services.AddSingleton<DemoTrafficGenerator>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<DemoTrafficGenerator>());
        }

        builder.AddStreamGrainsTelemetry(options.Telemetry, $"{Environment.MachineName}:{options.Cluster.SiloPort}");
        builder.Services.AddProblemDetails();
        builder.AddStreamGrainsApi(options);
        builder.Services.AddHostedService<StartupBanner>();

        var app = builder.Build();
        app.UseTrustedProxies(options.Api);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseStreamGrainsApi();
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = HealthResponses.WriteAsync })
            .WithMetadata(new HttpMethodMetadata(["GET", "HEAD"]));
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready"), ResponseWriter = HealthResponses.WriteAsync })
            .WithMetadata(new HttpMethodMetadata(["GET", "HEAD"]));
        var api = app.MapGroup(string.Empty).RequireApiAccess(); // read for GET, write for POST; rate-limited
        api.MapInfoEndpoints();
        api.MapEventEndpoints();
        api.MapPublishEndpoints();
        api.MapProfileEndpoints();
        api.MapAggregateEndpoints();
        api.MapAlertEndpoints();
        api.MapStatsEndpoints();
        app.MapStreamGrainsApiDocs();
        app.MapStreamGrainsTelemetry(options.Telemetry);
        app.MapOrleansDashboard(routePrefix: "/dashboard").RequireAuthorization(ApiScopes.Policy(ApiScopes.Admin)).RequireRateLimiting(ApiHosting.RateLimitPolicy).ExcludeFromDescription();
        app.MapGet("/", () => Results.Redirect("/dashboard/")).ExcludeFromDescription();
        return app;
    }

    /// <summary>
    /// Profiles and decisions: the rule book (configured rules, and the demo's while demo traffic runs), the context
    /// source, the outputs to Kafka, the decision feed and the statistics.
    /// </summary>
    private static void AddProfiles(WebApplicationBuilder builder, StreamGrainsOptions options, KafkaEnvironment kafka, PostgresStorage? postgres, bool demo)
    {
        var ruleSettings = new Dictionary<string, RuleSettings>(options.Rules, StringComparer.OrdinalIgnoreCase);
        if (!options.Profiles.Enabled && ruleSettings.Count > 0)
        {
            throw new ConfigurationException([$"{StreamGrainsOptions.SectionName}:Rules: rules decide in profiles, which {StreamGrainsOptions.SectionName}:Profiles:Enabled false turns off (rules configured: {string.Join(", ", ruleSettings.Keys)})."]);
        }

        if (demo && options.Profiles.Enabled)
        {
            foreach (var (name, rule) in DemoRules.All)
            {
                ruleSettings.TryAdd(name, rule);
            }
        }

        var errors = new List<string>();
        var rules = new RuleBook(RuleCompiler.Compile(ruleSettings, $"{StreamGrainsOptions.SectionName}:Rules", errors));
        if (errors.Count > 0)
        {
            throw new ConfigurationException(errors);
        }

        builder.Services.AddSingleton(rules);
        builder.Services.AddOptions<ProfileOptions>().Bind(builder.Configuration.GetSection($"{StreamGrainsOptions.SectionName}:Profiles"));
        builder.Services.AddSingleton<ProfileMetrics>();
        builder.Services.AddSingleton<ProfileCheckpoints>();
        builder.Services.AddSingleton<IKafkaCommitGate, ProfileCommitGate>();
        builder.Services.AddSingleton<DecisionLedger>();
        builder.Services.AddSingleton<IKafkaReadObserver, DecisionReplayGuard>();
        builder.Services.AddSingleton<KafkaProfileOutput>();
        builder.Services.AddSingleton<IProfileOutput>(sp => sp.GetRequiredService<KafkaProfileOutput>());
        builder.Services.AddSingleton<IStreamPositions, KafkaStreamPositions>();
        builder.Services.AddSingleton<PartitionOwnerCache>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PartitionOwnerCache>());
        builder.Services.AddSingleton<PartitionResidents<IGrainContext>>();
        builder.Services.AddHostedService<ProfileRelocator>();
        builder.Services.AddSingleton<ProfileStatsReporter>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ProfileStatsReporter>());
        builder.Services.AddSingleton<DecisionFeed>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DecisionFeed>());

        var context = options.Context;
        switch (context.ParsedKind)
        {
            case ContextKind.File:
                FileEntityContext file;
                try
                {
                    file = new FileEntityContext(
                        Path.GetFullPath(context.Path!),
                        context.RefreshInterval,
                        TimeProvider.System,
                        ex => StartupLog.Factory.CreateLogger<FileEntityContext>().LogWarning(ex, "The context file could not be read again; the last good contents stay"));
                }
                catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException)
                {
                    throw new ConfigurationException([$"{StreamGrainsOptions.SectionName}:Context:Path: {ex.Message}"]);
                }

                builder.Services.AddSingleton<IEntityContextSource>(file);
                break;
            case ContextKind.Postgres:
                var dataSource = postgres?.DataSource
                    ?? PostgresStorage.Open(builder.Configuration.GetConnectionString(StorageSettings.ConnectionStringName)!, options.Storage).DataSource;
                if (postgres is null)
                {
                    builder.Services.AddKeyedSingleton("context", (_, _) => dataSource); // disposed with the host
                }

                builder.Services.AddSingleton<IEntityContextSource>(_ => new PostgresEntityContext(dataSource, context.RefreshInterval));
                break;
            default:
                builder.Services.AddSingleton<IEntityContextSource>(NoEntityContext.Instance);
                break;
        }
    }

    /// <summary>
    /// Aggregations: the configured ones (and the demo's while demo traffic runs), the read-path feed that
    /// pre-aggregates each read for the aggregator shards, and the outputs to Kafka.
    /// </summary>
    private static void AddAggregations(WebApplicationBuilder builder, StreamGrainsOptions options, bool tables, bool demo)
    {
        var settings = new Dictionary<string, AggregationSettings>(options.Aggregations, StringComparer.OrdinalIgnoreCase);
        if (demo)
        {
            foreach (var (name, aggregation) in DemoAggregations.All)
            {
                settings.TryAdd(name, aggregation);
            }
        }

        var section = builder.Configuration.GetSection($"{StreamGrainsOptions.SectionName}:Aggregations");
        var limits = new AggregationLimits();
        section.Bind(limits);
        var errors = new List<string>();
        var definitions = AggregationCompiler.Compile(settings, section.Path, errors);
        if (limits.IdleTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{section.Path}:IdleTimeout: must be positive, was {limits.IdleTimeout}.");
        }

        if (limits.MaxFutureSkew <= TimeSpan.Zero)
        {
            errors.Add($"{section.Path}:MaxFutureSkew: must be positive, was {limits.MaxFutureSkew}.");
        }

        if (limits.Shards is < 1 or > 1024)
        {
            errors.Add($"{section.Path}:Shards: must be 1 to 1024, was {limits.Shards}.");
        }

        if (errors.Count > 0)
        {
            throw new ConfigurationException(errors);
        }

        builder.Services.AddSingleton(new AggregationBook(definitions, limits));
        builder.Services.AddSingleton<AggregationMetrics>();
        if (tables)
        {
            builder.Services.AddSingleton<StreamGrains.Storage.Aggregations.AggregateTables>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<StreamGrains.Storage.Aggregations.AggregateTables>());
        }

        builder.Services.AddSingleton<KafkaAggregationOutput>();
        builder.Services.AddSingleton<IAggregationOutput>(sp => sp.GetRequiredService<KafkaAggregationOutput>());
        builder.Services.AddSingleton<AggregatorRouting>();
        builder.Services.AddSingleton<AggregationFeed>();
        builder.Services.AddSingleton<IKafkaReadObserver>(sp => sp.GetRequiredService<AggregationFeed>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AggregationFeed>());
    }

    /// <summary>The <c>migrate</c> command: applies the schema migrations to <c>ConnectionStrings:StreamGrains</c> and stops.</summary>
    /// <returns>The process exit code: 0, or 2 with the reason on standard error.</returns>
    public static async Task<int> MigrateAsync(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Configuration.AddCommandLine(args, CommandLineSwitches.Mappings);
        var connectionString = builder.Configuration.GetConnectionString(StorageSettings.ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            await Console.Error.WriteLineAsync($"Invalid configuration: ConnectionStrings:{StorageSettings.ConnectionStringName}: required to migrate (e.g. --ConnectionStrings:{StorageSettings.ConnectionStringName} \"Host=localhost;Port=5432;Username=streamgrains;Database=streamgrains\").").ConfigureAwait(false);
            return 2;
        }

        try
        {
            var timeout = builder.Configuration.GetValue($"{StreamGrainsOptions.SectionName}:Storage:ConnectTimeout", new StorageSettings().ConnectTimeout);
            var storage = PostgresStorage.Open(connectionString, new StorageSettings { MigrateOnStart = true, ConnectTimeout = timeout });
            await using var dataSource = storage.DataSource;
            var version = await new PostgresMigrator(dataSource, StartupLog.Factory.CreateLogger<PostgresMigrator>()).CurrentVersionAsync().ConfigureAwait(false);
            Console.WriteLine($"The database at {PostgresStorage.Describe(connectionString)} is at schema version {version}.");
            return 0;
        }
        catch (ConfigurationException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message).ConfigureAwait(false);
            return 2;
        }
        catch (InvalidOperationException ex)
        {
            // The binder could not read Storage:ConnectTimeout; its message names the key.
            await Console.Error.WriteLineAsync($"Invalid configuration: {ex.Message}").ConfigureAwait(false);
            return 2;
        }
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
        var errors = UnknownSettings.Find(configuration, commandLineKeys)
            .Concat(StreamGrainsOptionsValidator.Errors(options, configuration.GetConnectionString(StorageSettings.ConnectionStringName)))
            .ToList();
        return errors.Count == 0 ? options : throw new ConfigurationException(errors);
    }

    private static void ConfigureSilo(ISiloBuilder silo, StreamGrainsOptions options, KafkaEnvironment kafkaEnvironment)
    {
        // Orleans' watchdog can read its participant-check timestamp before setting it and warn of a stall as long as the
        // machine's uptime on a clean start. Its membership clock counts from the process start instead, so that reading
        // measures (harmlessly) the seconds the silo took to start; real stalls still show.
        silo.Services.AddKeyedSingleton<TimeProvider>(TimeProviderNames.Membership, new ProcessClock());

        var cluster = options.Cluster;
        var connectionString = silo.Configuration.GetConnectionString(StorageSettings.ConnectionStringName);
        silo.Configure<ClusterMembershipOptions>(membership =>
        {
            // Notice a dead silo within seconds rather than a minute, so that its partitions move within 5 s of a
            // crash: a probe a second, three missed in a row (a crashed process refuses them at once).
            membership.ProbeTimeout = TimeSpan.FromSeconds(1);
            membership.NumMissedProbesLimit = 3;
        });

        switch (options.Storage.ParsedKind)
        {
            case StorageKind.Postgres:
                // Silos on any host find each other through the membership table; state and reminders live beside it.
                silo.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = cluster.ClusterId;
                    o.ServiceId = cluster.ServiceId;
                });
                if (string.IsNullOrWhiteSpace(cluster.AdvertisedAddress))
                {
                    silo.ConfigureEndpoints(cluster.SiloPort, cluster.GatewayPort, listenOnAnyHostAddress: true);
                }
                else
                {
                    silo.ConfigureEndpoints(IPAddress.Parse(cluster.AdvertisedAddress), cluster.SiloPort, cluster.GatewayPort, listenOnAnyHostAddress: true);
                }

                silo.UseAdoNetClustering(o =>
                {
                    o.Invariant = PostgresStorage.Invariant;
                    o.ConnectionString = connectionString;
                });
                PostgresStorage.AddGrainStorage(silo, connectionString!);
                silo.UseAdoNetReminderService(o =>
                {
                    o.Invariant = PostgresStorage.Invariant;
                    o.ConnectionString = connectionString;
                });
                break;
            default:
                var primary = cluster.PrimarySiloPort is { } primaryPort ? new IPEndPoint(IPAddress.Loopback, primaryPort) : null;
                silo.UseLocalhostClustering(cluster.SiloPort, cluster.GatewayPort, primary, cluster.ServiceId, cluster.ClusterId);
                GrainStateSerialization.UseOrleansSerializer(silo);
                silo.AddMemoryGrainStorageAsDefault();
                silo.AddMemoryGrainStorage("PubSubStore");
                silo.UseInMemoryReminderService();
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
        if (!options.Profiles.Enabled)
        {
            silo.WithoutProfiles(); // no implicit subscription to the events, so no grain per entity
        }

        silo.AddActivityPropagation(); // grain calls continue the trace of the Kafka record that caused them
        silo.Services.AddPlacementDirector<PartitionLocalPlacement, PartitionLocalPlacementDirector>();
        silo.Configure<GrainCollectionOptions>(collection =>
        {
            var idle = options.Profiles.IdleTimeout;
            if (idle <= collection.CollectionQuantum)
            {
                collection.CollectionQuantum = idle / 2;
            }

            collection.ClassSpecificCollectionAge[typeof(ProfileGrain).FullName!] = idle;
        });
        silo.AddDashboard();
    }
}
