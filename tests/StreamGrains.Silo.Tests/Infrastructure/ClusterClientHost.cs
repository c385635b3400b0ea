using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StreamGrains.Client;
using StreamGrains.Client.Cluster;
using StreamGrains.Hosting;

namespace StreamGrains.Silo.Tests.Infrastructure;

/// <summary>A host of the SDK's cluster mode in the test process: an Orleans client of silo processes, started and connected.</summary>
internal sealed class ClusterClientHost : IAsyncDisposable
{
    private readonly IHost _host;

    private ClusterClientHost(IHost host)
    {
        _host = host;
        Client = host.Services.GetRequiredService<IStreamGrainsClient>();
    }

    public IStreamGrainsClient Client { get; }

    public IServiceProvider Services => _host.Services;

    /// <summary>Starts a host whose cluster client connects to <paramref name="silo"/>'s gateway.</summary>
    public static Task<ClusterClientHost> StartAsync(SiloProcess silo, Action<StreamGrainsClusterClientOptions>? configure = null) =>
        StartAsync(o =>
        {
            o.Gateways.Add($"127.0.0.1:{silo.GatewayPort}");
            configure?.Invoke(o);
        });

    /// <summary>Starts a host whose cluster client is configured by <paramref name="configure"/> alone.</summary>
    public static async Task<ClusterClientHost> StartAsync(Action<StreamGrainsClusterClientOptions> configure)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.AddStreamGrainsClusterClient(configure);
        var host = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.StartAsync(timeout.Token);
        return new ClusterClientHost(host);
    }

    /// <summary>Stops the host gracefully (the spill log is closed, nothing is sent twice after a restart).</summary>
    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _host.StopAsync(timeout.Token);
        }
        finally
        {
            _host.Dispose();
        }
    }
}
