using Microsoft.Extensions.DependencyInjection;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;
using StreamGrains.Integration.Tests.Grains;
using StreamGrains.Storage;
using StreamGrains.Testing;

namespace StreamGrains.Integration.Tests;

/// <summary>Orleans on our PostgreSQL scripts: membership, grain state and reminders through the ADO.NET providers.</summary>
public sealed class PostgresStorageTests
{
    private static async Task<string> MigratedDatabaseAsync()
    {
        var connectionString = await (await PostgresServer.Shared).CreateDatabaseAsync("orleans");
        await using var data = NpgsqlDataSource.Create(connectionString);
        await new PostgresMigrator(data, NullLogger<PostgresMigrator>.Instance).MigrateAsync();
        return connectionString;
    }

    private static async Task<TestCluster> StartAsync(string connectionString, string serviceId, short silos)
    {
        var builder = new TestClusterBuilder(silos);
        builder.Options.UseTestClusterMembership = false;
        builder.Options.ServiceId = serviceId;
        builder.Options.ClusterId = $"cluster-{Guid.NewGuid():N}";
        builder.Properties["Postgres"] = connectionString;
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    [Fact]
    public async Task Grain_state_survives_a_restart_of_every_silo_and_membership_lists_the_live_silos()
    {
        var connectionString = await MigratedDatabaseAsync();
        var serviceId = $"service-{Guid.NewGuid():N}";

        var cluster = await StartAsync(connectionString, serviceId, silos: 2);
        await using (var data = NpgsqlDataSource.Create(connectionString))
        await using (var command = data.CreateCommand("SELECT count(*) FROM OrleansMembershipTable WHERE Status = 3"))
        {
            Assert.Equal(2L, (long)(await command.ExecuteScalarAsync())!);
        }

        for (var i = 0; i < 5; i++)
        {
            await cluster.Client.GetGrain<IStatefulCounterGrain>("card-1").Increment();
        }

        await cluster.Client.GetGrain<IStatefulCounterGrain>("card-2").Increment();
        await cluster.StopAllSilosAsync();
        await cluster.DisposeAsync();

        var restarted = await StartAsync(connectionString, serviceId, silos: 1);
        Assert.Equal(5, await restarted.Client.GetGrain<IStatefulCounterGrain>("card-1").Count());
        Assert.Equal(1, await restarted.Client.GetGrain<IStatefulCounterGrain>("card-2").Count());
        Assert.Equal(6, await restarted.Client.GetGrain<IStatefulCounterGrain>("card-1").Increment());
        await restarted.StopAllSilosAsync();
        await restarted.DisposeAsync();
    }

    [Fact]
    public async Task Reminders_fire_and_keep_firing_after_the_silos_restart()
    {
        var connectionString = await MigratedDatabaseAsync();
        var serviceId = $"service-{Guid.NewGuid():N}";
        var key = $"probe-{Guid.NewGuid():N}";

        var cluster = await StartAsync(connectionString, serviceId, silos: 1);
        await cluster.Client.GetGrain<IReminderProbeGrain>(key).Start(TimeSpan.FromSeconds(1));
        await KafkaTestCluster.WaitUntilAsync(() => ReminderProbeGrain.Ticks.GetValueOrDefault(key) >= 2, TimeSpan.FromSeconds(60), () => $"{ReminderProbeGrain.Ticks.GetValueOrDefault(key)} ticks");
        await cluster.StopAllSilosAsync();
        await cluster.DisposeAsync();

        // The reminder is in PostgreSQL: a new cluster of the same service picks it up without being asked.
        var before = ReminderProbeGrain.Ticks.GetValueOrDefault(key);
        var restarted = await StartAsync(connectionString, serviceId, silos: 1);
        await KafkaTestCluster.WaitUntilAsync(() => ReminderProbeGrain.Ticks.GetValueOrDefault(key) > before, TimeSpan.FromSeconds(60), () => "the reminder did not fire after the restart");
        await restarted.StopAllSilosAsync();
        await restarted.DisposeAsync();
    }

    [Fact]
    public async Task A_profile_comes_back_from_the_silo_s_grain_storage_exactly_as_it_was_written()
    {
        var cluster = await StartAsync(await MigratedDatabaseAsync(), $"svc-{Guid.NewGuid():N}", silos: 1);
        try
        {
            var profile = new StreamGrains.Profiles.EntityProfile();
            var start = new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);
            for (var i = 0; i < 50; i++)
            {
                var evt = new StreamGrains.Events.StreamEvent
                {
                    Id = $"e-{i}", Entity = "card-1", Type = i % 3 == 0 ? "refund" : "payment", Timestamp = start.AddSeconds(i), Value = i * 1.5,
                    Attributes = new Dictionary<string, StreamGrains.Events.AttributeValue> { ["country"] = i % 2 == 0 ? "NL" : "DE" },
                };
                Assert.False(profile.IsReplay(3, 100 + i));
                profile.Apply(evt);
                profile.Flag("big");
                profile.StateOf("burst").Times = [start.AddSeconds(i).UtcTicks];
            }

            var storage = Assert.IsType<InProcessSiloHandle>(cluster.Silos[0]).SiloHost.Services.GetRequiredKeyedService<Orleans.Storage.IGrainStorage>("Default");
            var grainId = GrainId.Create("profile", "card-1");
            await storage.WriteStateAsync("profile", grainId, new GrainState<StreamGrains.Profiles.EntityProfile>(profile));
            var read = new GrainState<StreamGrains.Profiles.EntityProfile>(new StreamGrains.Profiles.EntityProfile());
            await storage.ReadStateAsync("profile", grainId, read);
            Assert.NotNull(read.State);

            var context = StreamGrains.Events.StreamEvent.EmptyAttributes;
            Assert.Equal(
                System.Text.Json.JsonSerializer.Serialize(profile.ToSnapshot("card-1", context, null)),
                System.Text.Json.JsonSerializer.Serialize(read.State.ToSnapshot("card-1", context, null)));
            Assert.True(read.State.IsReplay(3, 149)); // the offsets it covers came back too
            Assert.False(read.State.IsReplay(3, 150));
            Assert.Equal(profile.Values.StdDev, read.State.Values.StdDev);
            Assert.Equal([start.AddSeconds(49).UtcTicks], read.State.StateOf("burst").Times);
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            var connectionString = siloBuilder.Configuration["Postgres"]!;
            siloBuilder.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = connectionString;
            });
            StreamGrains.Silo.Storage.PostgresStorage.AddGrainStorage(siloBuilder, connectionString); // as the silo host does
            siloBuilder.UseAdoNetReminderService(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = connectionString;
            });
            siloBuilder.Configure<ReminderOptions>(o =>
            {
                o.MinimumReminderPeriod = TimeSpan.FromSeconds(1);
                o.RefreshReminderListPeriod = TimeSpan.FromSeconds(1);
            });
        }
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = configuration["Postgres"]!;
            });
    }
}
