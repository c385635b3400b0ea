using StreamGrains.Api;
using StreamGrains.Decisions;
using StreamGrains.Events;

namespace StreamGrains.Client;

/// <summary>
/// What applications do with a StreamGrains cluster: publish events, and read profiles, decisions (recent and live),
/// aggregates, top keys, sessions and statistics. Over HTTP: made by <see cref="StreamGrainsClient.Create"/> or, with
/// dependency injection, <c>services.AddStreamGrainsClient(...)</c>. Inside the cluster (package
/// <c>StreamGrains.Client.Cluster</c>): <c>builder.AddStreamGrainsClusterClient(...)</c>, an Orleans client.
/// </summary>
/// <remarks>
/// Refusals of the API (400 with the invalid fields, 404 for an unknown aggregation, 413, 422; over HTTP also 401, 403,
/// and 429 after retries) throw <see cref="StreamGrainsApiException"/> with the HTTP status either way. Over HTTP,
/// transient failures of reads are retried; in cluster mode a call that fails in transport throws Orleans' exception
/// (<c>SiloUnavailableException</c>, <c>TimeoutException</c>) and retrying is the caller's. A publish is never retried
/// by the client (sent again after a lost answer, its events would be there twice: give events an <c>id</c> to
/// recognise them).
/// </remarks>
public interface IStreamGrainsClient
{
    /// <summary>
    /// Publishes events; returns once each is acknowledged by Kafka or, while Kafka is away, safely in a spill log (the
    /// answering silo's over HTTP, this process's own in cluster mode), sent from there, in order, once Kafka answers again.
    /// </summary>
    /// <param name="events">The events (at most the cluster's <c>Api:MaxEventsPerRequest</c> over HTTP, <c>MaxEventsPerPublish</c> in cluster mode).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>How many events were accepted, and how many of them wait in the spill log.</returns>
    Task<PublishResponse> PublishAsync(IReadOnlyCollection<StreamEvent> events, CancellationToken cancellationToken = default);

    /// <summary>An entity's profile, or null when the cluster has never seen the entity.</summary>
    /// <param name="entity">The entity.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<ProfileResponse?> GetProfileAsync(string entity, CancellationToken cancellationToken = default);

    /// <summary>Recent decisions of the whole cluster, newest first.</summary>
    /// <param name="entity">Only about this entity.</param>
    /// <param name="rule">Only of this rule.</param>
    /// <param name="limit">At most this many (1 to 1000; the server's default is 100).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<IReadOnlyList<Decision>> GetAlertsAsync(string? entity = null, string? rule = null, int? limit = null, CancellationToken cancellationToken = default);

    /// <summary>Decisions as they are made (server-sent events), until <paramref name="cancellationToken"/> ends it or the server goes away.</summary>
    /// <param name="entity">Only about this entity.</param>
    /// <param name="rule">Only of this rule.</param>
    /// <param name="cancellationToken">Ends the stream.</param>
    IAsyncEnumerable<Decision> StreamAlertsAsync(string? entity = null, string? rule = null, CancellationToken cancellationToken = default);

    /// <summary>A key's open and final windows of a time-windowed aggregation, or null when the aggregation holds no window of the key.</summary>
    /// <param name="aggregation">The aggregation's name.</param>
    /// <param name="key">The group key.</param>
    /// <param name="from">Only windows ending after this.</param>
    /// <param name="until">Only windows starting before this.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="StreamGrainsApiException">No such aggregation (404).</exception>
    Task<WindowsResponse?> GetWindowsAsync(string aggregation, string key, DateTimeOffset? from = null, DateTimeOffset? until = null, CancellationToken cancellationToken = default);

    /// <summary>The keys with the highest counts in the aggregation's latest final window.</summary>
    /// <param name="aggregation">The aggregation's name.</param>
    /// <param name="top">How many keys (1 to 1000).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<TopResponse> GetTopAsync(string aggregation, int top = 10, CancellationToken cancellationToken = default);

    /// <summary>A key's open and recently closed sessions, or null when the aggregation holds no session of the key.</summary>
    /// <param name="aggregation">The session aggregation's name.</param>
    /// <param name="key">The group key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="StreamGrainsApiException">No such aggregation (404).</exception>
    Task<SessionsResponse?> GetSessionsAsync(string aggregation, string key, CancellationToken cancellationToken = default);

    /// <summary>Events processed, decisions, dead letters, decision latency and active profiles: the answering silo and the cluster.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<StatsResponse> GetStatsAsync(CancellationToken cancellationToken = default);

    /// <summary>The answering silo: version, address, Kafka topics and partitions, storage.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<InfoResponse> GetInfoAsync(CancellationToken cancellationToken = default);
}
