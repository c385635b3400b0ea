using System.Runtime.CompilerServices;
using Orleans.Concurrency;
using StreamGrains.Api;
using StreamGrains.Decisions;
using StreamGrains.Silo.Decisions;

namespace StreamGrains.Silo.Api;

/// <summary>
/// <see cref="IApiGrain"/>: the HTTP API's queries for Orleans clients, answered on the gateway silo a call arrives at
/// (a local stateless worker, reentrant: every query only reads thread-safe services, and a live stream of decisions
/// must not hold the others up) by the same <see cref="ApiQueries"/> and <see cref="DecisionFeed"/> as the endpoints.
/// </summary>
[StatelessWorker(1)]
[Reentrant]
internal sealed class ApiGrain(ApiQueries queries, DecisionFeed feed) : Grain, IApiGrain
{
    public Task<ApiAnswer<ProfileResponse>> GetProfile(string entity) => queries.ProfileAsync(entity);

    public Task<ApiAnswer<List<Decision>>> GetAlerts(string? entity, string? rule, int? limit)
    {
        var errors = ApiRules.DecisionFilterErrors(entity, rule, limit);
        return Task.FromResult<ApiAnswer<List<Decision>>>(errors.Count > 0
            ? ApiProblem.Invalid(errors)
            : feed.Recent(entity, rule, limit ?? ApiRules.DefaultAlerts).Select(i => i.Decision).ToList());
    }

    public async IAsyncEnumerable<Decision> StreamAlerts(string? entity, string? rule, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var errors = ApiRules.DecisionFilterErrors(entity, rule, limit: null);
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors.Values.SelectMany(e => e)));
        }

        await foreach (var item in feed.Subscribe(entity, rule, cancellationToken))
        {
            yield return item.Decision;
        }
    }

    public Task<ApiAnswer<WindowsResponse>> GetWindows(string aggregation, string key, DateTimeOffset? from, DateTimeOffset? until) =>
        queries.WindowsAsync(aggregation, key, from?.ToUnixTimeMilliseconds() ?? long.MinValue, until?.ToUnixTimeMilliseconds() ?? long.MaxValue);

    public Task<ApiAnswer<TopResponse>> GetTop(string aggregation, int top) => queries.TopAsync(aggregation, top);

    public Task<ApiAnswer<SessionsResponse>> GetSessions(string aggregation, string key) => queries.SessionsAsync(aggregation, key);

    public Task<StatsResponse> GetStats() => queries.StatsAsync();

    public Task<InfoResponse> GetInfo() => queries.InfoAsync(CancellationToken.None);
}
