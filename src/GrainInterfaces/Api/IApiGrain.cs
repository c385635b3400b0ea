using StreamGrains.Decisions;

namespace StreamGrains.Api;

/// <summary>
/// The queries of the HTTP API as grain calls, for Orleans clients inside the cluster (the SDK's cluster mode): a
/// stateless worker on the gateway silo the call arrives at, which answers exactly as that silo's HTTP API does (the
/// same code behind both). Use key 0.
/// </summary>
public interface IApiGrain : IGrainWithIntegerKey
{
    /// <summary>An entity's profile (<c>GET /api/profiles/{entity}</c>); no value when the entity was never seen.</summary>
    /// <param name="entity">The entity.</param>
    Task<ApiAnswer<ProfileResponse>> GetProfile(string entity);

    /// <summary>Recent decisions of the whole cluster, newest first (<c>GET /api/alerts</c>).</summary>
    /// <param name="entity">Only about this entity (null: any).</param>
    /// <param name="rule">Only of this rule (null: any).</param>
    /// <param name="limit">At most this many (null: <see cref="ApiRules.DefaultAlerts"/>).</param>
    Task<ApiAnswer<List<Decision>>> GetAlerts(string? entity, string? rule, int? limit);

    /// <summary>
    /// Decisions as they are made (<c>GET /api/alerts/stream</c>), until cancelled or the silo goes away. Check the
    /// filters with <see cref="ApiRules.DecisionFilterErrors"/> first: invalid ones throw <see cref="ArgumentException"/>.
    /// </summary>
    /// <param name="entity">Only about this entity (null: any).</param>
    /// <param name="rule">Only of this rule (null: any).</param>
    /// <param name="cancellationToken">Ends the stream.</param>
    IAsyncEnumerable<Decision> StreamAlerts(string? entity, string? rule, CancellationToken cancellationToken = default);

    /// <summary>A key's windows of a time-windowed aggregation (<c>GET /api/aggregates/{name}/{key}</c>); no value when it holds none of the key.</summary>
    /// <param name="aggregation">The aggregation.</param>
    /// <param name="key">The group key.</param>
    /// <param name="from">Only windows ending after this (null: all retained).</param>
    /// <param name="until">Only windows starting before this (null: all retained).</param>
    Task<ApiAnswer<WindowsResponse>> GetWindows(string aggregation, string key, DateTimeOffset? from, DateTimeOffset? until);

    /// <summary>The keys with the highest counts in the latest final window (<c>GET /api/aggregates/{name}?top=N</c>).</summary>
    /// <param name="aggregation">The aggregation.</param>
    /// <param name="top">How many keys.</param>
    Task<ApiAnswer<TopResponse>> GetTop(string aggregation, int top);

    /// <summary>A key's sessions (<c>GET /api/sessions/{name}/{key}</c>); no value when it holds none of the key.</summary>
    /// <param name="aggregation">The session aggregation.</param>
    /// <param name="key">The group key.</param>
    Task<ApiAnswer<SessionsResponse>> GetSessions(string aggregation, string key);

    /// <summary>The statistics of the silo the call arrived at and of the cluster (<c>GET /api/stats</c>).</summary>
    Task<StatsResponse> GetStats();

    /// <summary>The silo the call arrived at (<c>GET /api/info</c>).</summary>
    Task<InfoResponse> GetInfo();
}
