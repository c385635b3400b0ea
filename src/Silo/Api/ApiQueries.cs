using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using StreamGrains.Aggregations;
using StreamGrains.Api;
using StreamGrains.Kafka.Statistics;
using StreamGrains.Profiles;
using StreamGrains.Silo.Aggregations;
using StreamGrains.Silo.Configuration;
using StreamGrains.Silo.Kafka;
using StreamGrains.Silo.Profiles;
using StreamGrains.Statistics;

namespace StreamGrains.Silo.Api;

/// <summary>
/// The queries of the API, once for both ways in: the HTTP endpoints turn their answers into responses, and
/// <see cref="ApiGrain"/> hands them to Orleans clients (the SDK's cluster mode). Parameters arrive parsed; the
/// answers carry the same problems (invalid parameters, unknown aggregations, entities and keys) either way.
/// </summary>
internal sealed class ApiQueries(
    IGrainFactory grains,
    IOptions<ProfileOptions> profiles,
    AggregationBook book,
    AggregatorRouting routing,
    ProfileStatsReporter stats,
    ILocalSiloDetails silo,
    KafkaEnvironment kafka,
    KafkaMetadataReader metadata,
    PartitionOwnership ownership,
    IOptions<StreamGrainsOptions> options)
{
    private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(2);

    public async Task<ApiAnswer<ProfileResponse>> ProfileAsync(string entity)
    {
        if (ApiRules.EntityError(entity) is { } error)
        {
            return ApiProblem.Invalid(new Dictionary<string, string[]> { ["entity"] = [error] }, "Invalid entity");
        }

        if (!profiles.Value.Enabled)
        {
            return ApiProblem.NotFound("Profiles are turned off", "This silo keeps no profiles (StreamGrains:Profiles:Enabled is false).");
        }

        var profile = await grains.GetGrain<IProfileGrain>(entity).GetProfile().ConfigureAwait(false);
        return profile is null ? ApiProblem.NotFound(ApiProblem.UnknownEntity, $"No event of entity '{entity}' was seen.") : ProfileResponse.From(profile);
    }

    public async Task<ApiAnswer<WindowsResponse>> WindowsAsync(string name, string key, long fromMs, long toMs, IReadOnlyDictionary<string, string[]>? parseErrors = null)
    {
        if (!book.ByName.TryGetValue(name, out var definition) || definition.Window.Kind == WindowKind.Session)
        {
            return UnknownAggregation(name, sessions: false);
        }

        var errors = new Dictionary<string, string[]>(parseErrors ?? new Dictionary<string, string[]>());
        if (ApiRules.EntityError(key, "key") is { } keyError)
        {
            errors["key"] = [keyError];
        }

        if (errors.Count > 0)
        {
            return ApiProblem.Invalid(errors);
        }

        var windows = await routing.CallAsync(name, routing.ShardOf(definition, key), shard => shard.GetWindows(key, fromMs, toMs)).ConfigureAwait(false);
        return windows is null
            ? ApiProblem.NotFound(ApiProblem.UnknownKey, $"Aggregation '{name}' holds no window of key '{key}'.")
            : new WindowsResponse(name, key, windows);
    }

    public async Task<ApiAnswer<TopResponse>> TopAsync(string name, int count)
    {
        if (!book.ByName.TryGetValue(name, out var definition) || definition.Window.Kind == WindowKind.Session)
        {
            return UnknownAggregation(name, sessions: false);
        }

        if (ApiRules.TopError(count) is { } error)
        {
            return ApiProblem.Invalid(new Dictionary<string, string[]> { ["top"] = [error] });
        }

        // Two steps: where every shard that has a watermark and is not idle has finished, then each shard's top keys of
        // its latest window ending there; so the window is one that every shard has closed, not the newest of one alone.
        var shards = routing.ShardsOf(definition).ToList();
        var horizons = await Task.WhenAll(shards.Select(s => routing.CallAsync(name, s, shard => shard.GetFinalHorizon()))).ConfigureAwait(false);
        var known = horizons.Where(h => h != long.MinValue).ToList();
        var horizon = known.Count == 0 ? long.MaxValue : known.Min();
        var answers = await Task.WhenAll(shards.Select(s => routing.CallAsync(name, s, shard => shard.GetTop(count, horizon)))).ConfigureAwait(false);
        var all = answers.SelectMany(a => a).ToList();
        var latest = all.Count == 0 ? (DateTimeOffset?)null : all.Max(k => k.WindowEnd);
        var keys = all.Where(k => k.WindowEnd == latest).OrderByDescending(k => k.Count).ThenBy(k => k.Key, StringComparer.Ordinal).Take(count)
            .Select(k => new TopKey(k.Key, k.Count)).ToList();
        var start = all.FirstOrDefault(k => k.WindowEnd == latest)?.WindowStart;
        return new TopResponse(name, start, latest, keys);
    }

    public async Task<ApiAnswer<SessionsResponse>> SessionsAsync(string name, string key)
    {
        if (!book.ByName.TryGetValue(name, out var definition) || definition.Window.Kind != WindowKind.Session)
        {
            return UnknownAggregation(name, sessions: true);
        }

        if (ApiRules.EntityError(key, "key") is { } keyError)
        {
            return ApiProblem.Invalid(new Dictionary<string, string[]> { ["key"] = [keyError] });
        }

        var sessions = await routing.CallAsync(name, routing.ShardOf(definition, key), shard => shard.GetSessions(key)).ConfigureAwait(false);
        return sessions is null
            ? ApiProblem.NotFound(ApiProblem.UnknownKey, $"Aggregation '{name}' holds no session of key '{key}'.")
            : new SessionsResponse(name, key, sessions);
    }

    public async Task<StatsResponse> StatsAsync()
    {
        var local = stats.Current();
        var silos = (await grains.GetGrain<IClusterStatsGrain>(0).GetSilos(ProfileStatsReporter.Period * 5).ConfigureAwait(false))
            .Where(s => s.Silo != local.Silo)
            .Append(local)
            .ToList();
        return new StatsResponse(ToInfo(local), ToInfo(SiloProfileStats.Sum(silos, "cluster")), silos.Count);
    }

    public async Task<InfoResponse> InfoAsync(CancellationToken cancellationToken)
    {
        var partitions = (await ownership.CurrentAsync(localWhenDirectoryFails: true).ConfigureAwait(false))
            .Select(p => new PartitionInfo(
                p.Topic,
                p.Partition,
                p.Status?.Owner,
                p.Status?.State ?? "unowned",
                p.Status is { ReadUpTo: >= 0 } ? p.Status.ReadUpTo : null,
                p.Status is { CommittedOffset: >= 0 } ? p.Status.CommittedOffset : null,
                p.Status?.HighWatermark,
                p.Status?.HighWatermarkAgeMs,
                p.Status?.Lag,
                p.Status is { HighWatermark: { } high, CommittedOffset: >= 0 } ? Math.Max(0, high - p.Status.CommittedOffset) : null))
            .ToList();
        IReadOnlyList<TopicInfo> topics;
        string? kafkaError = null;
        try
        {
            var described = await metadata.DescribeTopicsAsync(MetadataTimeout, cancellationToken).ConfigureAwait(false);
            topics = described.Select(t => new TopicInfo(t.Topic, RoleOf(t.Topic), t.Error.IsError ? null : t.Partitions.Count)).ToList();
        }
        catch (KafkaException ex)
        {
            kafkaError = ex.Error.Reason;
            topics = kafka.Topics.Select(t => new TopicInfo(t, RoleOf(t), null)).ToList();
        }

        return new InfoResponse(
            InfoEndpoints.Version,
            silo.SiloAddress.ToParsableString(),
            silo.ClusterId,
            new KafkaInfo(kafka.BootstrapServers, kafka.IsEmbedded, kafka.IsEmbedded ? kafka.EmbeddedBrokerCount : null, kafka.ConsumerGroup, topics, partitions, kafkaError),
            options.Value.Storage.ParsedKind.ToString());
    }

    private string RoleOf(string topic) =>
        topic == kafka.DeadLetterTopic ? "dead-letter" : topic == kafka.InputTopic ? "input" : "output";

    private ApiProblem UnknownAggregation(string name, bool sessions)
    {
        var known = book.All.Where(d => (d.Window.Kind == WindowKind.Session) == sessions).Select(d => d.Name).ToList();
        return ApiProblem.NotFound(
            "Unknown aggregation",
            $"No {(sessions ? "session" : "time-windowed")} aggregation '{name}' is configured; {(known.Count == 0 ? "there is none" : $"there are: {string.Join(", ", known)}")}.");
    }

    private static StatsInfo ToInfo(SiloProfileStats stats) => new(
        stats.EventsProcessed,
        stats.DecisionsByRule.Values.Sum(),
        stats.DecisionsByRule,
        stats.DeadLetters,
        new LatencyInfo(stats.DecisionLatency.Count, stats.DecisionLatency.Quantile(0.5), stats.DecisionLatency.Quantile(0.99)),
        stats.ActiveProfiles,
        stats.ReplaysSkipped,
        stats.DuplicateDecisionsSuppressed);
}
