using System.Net;
using System.Runtime.CompilerServices;
using Confluent.Kafka;
using StreamGrains.Api;
using StreamGrains.Decisions;
using StreamGrains.Events;
using StreamGrains.Kafka.Publishing;
using ErrorCode = Confluent.Kafka.ErrorCode;

namespace StreamGrains.Client.Cluster;

/// <summary>
/// <see cref="IStreamGrainsClient"/> inside the cluster: each query is one call of <see cref="IApiGrain"/>, answered on
/// the gateway silo by the code behind its HTTP API, so answers and refusals are the same (a refusal is a
/// <see cref="StreamGrainsApiException"/> with the status the HTTP API would give); events are checked as
/// <c>POST /api/events</c> checks them and published by this process's own <see cref="SpillingProducer"/>.
/// </summary>
internal sealed class ClusterStreamGrainsClient(IGrainFactory grains, StreamGrainsClusterClientOptions options, SpillingProducer? producer = null) : IStreamGrainsClient
{
    private IApiGrain Api => grains.GetGrain<IApiGrain>(0);

    public async Task<PublishResponse> PublishAsync(IReadOnlyCollection<StreamEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (producer is null)
        {
            throw new InvalidOperationException($"This cluster client does not publish: set {nameof(StreamGrainsClusterClientOptions.KafkaBootstrapServers)} (and {nameof(StreamGrainsClusterClientOptions.SpillDirectory)}).");
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (events.Count == 0)
        {
            errors["body"] = ["The array holds no event."];
        }
        else if (events.Count > options.MaxEventsPerPublish)
        {
            errors["body"] = [$"At most {options.MaxEventsPerPublish} events per publish ({nameof(StreamGrainsClusterClientOptions.MaxEventsPerPublish)})."];
            throw InvalidEvents(errors);
        }

        // The contract's own check, as the silo makes it of a posted event: written as JSON and read back.
        var records = new List<(string Key, byte[] Value)>(events.Count);
        var index = 0;
        foreach (var evt in events)
        {
            if (evt is null)
            {
                errors[$"[{index}]"] = ["An event must be a JSON object."];
            }
            else
            {
                var json = StreamEventJson.Serialize(evt);
                if (StreamEventJson.TryParse(json, key: null, out var valid, out var rejection))
                {
                    records.Add((valid.Entity, json));
                }
                else
                {
                    rejection.AddTo(errors, index);
                }
            }

            index++;
        }

        if (errors.Count > 0)
        {
            throw InvalidEvents(errors);
        }

        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            var spilled = await producer.PublishAsync(records).ConfigureAwait(false);
            return new PublishResponse(records.Count, spilled);
        }
        catch (SpillLogFullException ex)
        {
            throw new StreamGrainsApiException(HttpStatusCode.ServiceUnavailable, "The spill log is full", $"{ex.Message} ({nameof(StreamGrainsClusterClientOptions.MaxSpillBytes)})", errors: null);
        }
        catch (ProduceException<string, byte[]> ex)
        {
            var tooLarge = ex.Error.Code is ErrorCode.MsgSizeTooLarge;
            throw new StreamGrainsApiException(
                tooLarge ? HttpStatusCode.RequestEntityTooLarge : HttpStatusCode.UnprocessableEntity,
                tooLarge ? "An event is larger than Kafka takes" : "Kafka refused an event",
                $"{ex.Error.Reason}. The other events of this call are taken; publishing them again publishes those twice.",
                errors: null);
        }
    }

    public async Task<ProfileResponse?> GetProfileAsync(string entity, CancellationToken cancellationToken = default) =>
        OrNull(await Api.GetProfile(entity).WaitAsync(cancellationToken).ConfigureAwait(false), notFoundTitle: null);

    public async Task<IReadOnlyList<Decision>> GetAlertsAsync(string? entity = null, string? rule = null, int? limit = null, CancellationToken cancellationToken = default) =>
        Value(await Api.GetAlerts(entity, rule, limit).WaitAsync(cancellationToken).ConfigureAwait(false));

    public async IAsyncEnumerable<Decision> StreamAlertsAsync(string? entity = null, string? rule = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (ApiRules.DecisionFilterErrors(entity, rule, limit: null) is { Count: > 0 } errors)
        {
            throw Refusal(ApiProblem.Invalid(errors));
        }

        await foreach (var decision in Api.StreamAlerts(entity, rule, cancellationToken).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return decision;
        }
    }

    public async Task<WindowsResponse?> GetWindowsAsync(string aggregation, string key, DateTimeOffset? from = null, DateTimeOffset? until = null, CancellationToken cancellationToken = default) =>
        OrNull(await Api.GetWindows(aggregation, key, from, until).WaitAsync(cancellationToken).ConfigureAwait(false), ApiProblem.UnknownKey);

    public async Task<TopResponse> GetTopAsync(string aggregation, int top = 10, CancellationToken cancellationToken = default) =>
        Value(await Api.GetTop(aggregation, top).WaitAsync(cancellationToken).ConfigureAwait(false));

    public async Task<SessionsResponse?> GetSessionsAsync(string aggregation, string key, CancellationToken cancellationToken = default) =>
        OrNull(await Api.GetSessions(aggregation, key).WaitAsync(cancellationToken).ConfigureAwait(false), ApiProblem.UnknownKey);

    public Task<StatsResponse> GetStatsAsync(CancellationToken cancellationToken = default) => Api.GetStats().WaitAsync(cancellationToken);

    public Task<InfoResponse> GetInfoAsync(CancellationToken cancellationToken = default) => Api.GetInfo().WaitAsync(cancellationToken);

    /// <summary>The answer's value; a problem is thrown.</summary>
    private static T Value<T>(ApiAnswer<T> answer)
        where T : class =>
        answer.Problem is { } problem ? throw Refusal(problem) : answer.Value!;

    /// <summary>The answer's value, null for a 404 (with <paramref name="notFoundTitle"/>, when given), as the HTTP client has it.</summary>
    private static T? OrNull<T>(ApiAnswer<T> answer, string? notFoundTitle)
        where T : class =>
        answer.Problem is { Status: 404 } problem && (notFoundTitle is null || problem.Title == notFoundTitle) ? null : Value(answer);

    private static StreamGrainsApiException InvalidEvents(Dictionary<string, string[]> errors) =>
        new(HttpStatusCode.BadRequest, "Invalid events", "Nothing of this call was published.", errors);

    private static StreamGrainsApiException Refusal(ApiProblem problem) =>
        new((HttpStatusCode)problem.Status, problem.Title, problem.Detail, problem.Errors?.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal));
}
