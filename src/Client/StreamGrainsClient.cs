using Microsoft.Extensions.DependencyInjection;
using StreamGrains.Api;
using StreamGrains.Decisions;
using StreamGrains.Events;
using StreamGrains.Hosting;

namespace StreamGrains.Client;

/// <summary>
/// A <see cref="IStreamGrainsClient"/> without a host of your own (scripts, tools, the CLI): the same HTTP client,
/// timeouts and retries as <c>services.AddStreamGrainsClient(...)</c>, held until disposed.
/// </summary>
/// <example>
/// <code>
/// await using var client = StreamGrainsClient.Create(new() { BaseAddress = new("http://localhost:5000") });
/// var top = await client.GetTopAsync("demo-clicks-per-page", top: 3);
/// </code>
/// </example>
public sealed class StreamGrainsClient : IStreamGrainsClient, IDisposable, IAsyncDisposable
{
    private readonly ServiceProvider _provider;
    private readonly IStreamGrainsClient _client;

    private StreamGrainsClient(ServiceProvider provider)
    {
        _provider = provider;
        _client = provider.GetRequiredService<IStreamGrainsClient>();
    }

    /// <summary>Makes a client; dispose it when done.</summary>
    /// <param name="options">Where and how to call.</param>
    public static StreamGrainsClient Create(StreamGrainsClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var services = new ServiceCollection();
        services.AddStreamGrainsClient(o =>
        {
            o.BaseAddress = options.BaseAddress;
            o.ApiKey = options.ApiKey;
            o.AttemptTimeout = options.AttemptTimeout;
            o.TotalTimeout = options.TotalTimeout;
            o.MaxRetries = options.MaxRetries;
        });
        return new StreamGrainsClient(services.BuildServiceProvider());
    }

    /// <inheritdoc/>
    public Task<PublishResponse> PublishAsync(IReadOnlyCollection<StreamEvent> events, CancellationToken cancellationToken = default) => _client.PublishAsync(events, cancellationToken);

    /// <inheritdoc/>
    public Task<ProfileResponse?> GetProfileAsync(string entity, CancellationToken cancellationToken = default) => _client.GetProfileAsync(entity, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<Decision>> GetAlertsAsync(string? entity = null, string? rule = null, int? limit = null, CancellationToken cancellationToken = default) =>
        _client.GetAlertsAsync(entity, rule, limit, cancellationToken);

    /// <inheritdoc/>
    public IAsyncEnumerable<Decision> StreamAlertsAsync(string? entity = null, string? rule = null, CancellationToken cancellationToken = default) =>
        _client.StreamAlertsAsync(entity, rule, cancellationToken);

    /// <inheritdoc/>
    public Task<WindowsResponse?> GetWindowsAsync(string aggregation, string key, DateTimeOffset? from = null, DateTimeOffset? until = null, CancellationToken cancellationToken = default) =>
        _client.GetWindowsAsync(aggregation, key, from, until, cancellationToken);

    /// <inheritdoc/>
    public Task<TopResponse> GetTopAsync(string aggregation, int top = 10, CancellationToken cancellationToken = default) => _client.GetTopAsync(aggregation, top, cancellationToken);

    /// <inheritdoc/>
    public Task<SessionsResponse?> GetSessionsAsync(string aggregation, string key, CancellationToken cancellationToken = default) => _client.GetSessionsAsync(aggregation, key, cancellationToken);

    /// <inheritdoc/>
    public Task<StatsResponse> GetStatsAsync(CancellationToken cancellationToken = default) => _client.GetStatsAsync(cancellationToken);

    /// <inheritdoc/>
    public Task<InfoResponse> GetInfoAsync(CancellationToken cancellationToken = default) => _client.GetInfoAsync(cancellationToken);

    /// <inheritdoc/>
    public void Dispose() => _provider.Dispose();

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _provider.DisposeAsync();
}
