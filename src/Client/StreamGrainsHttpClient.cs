using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using StreamGrains.Api;
using StreamGrains.Decisions;
using StreamGrains.Events;

namespace StreamGrains.Client;

/// <summary><see cref="IStreamGrainsClient"/> over the HTTP API; the <see cref="HttpClient"/> brings the base address, the key, timeouts and retries.</summary>
internal sealed class StreamGrainsHttpClient(HttpClient http) : IStreamGrainsClient
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<PublishResponse> PublishAsync(IReadOnlyCollection<StreamEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        var body = new StringBuilder("[");
        foreach (var evt in events)
        {
            body.Append(body.Length > 1 ? "," : string.Empty).Append(Encoding.UTF8.GetString(StreamEventJson.Serialize(evt)));
        }

        using var content = new StringContent(body.Append(']').ToString(), Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(new Uri("api/events", UriKind.Relative), content, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<PublishResponse>(response, cancellationToken).ConfigureAwait(false);
    }

    public Task<ProfileResponse?> GetProfileAsync(string entity, CancellationToken cancellationToken = default) =>
        GetOrNullAsync<ProfileResponse>($"api/profiles/{Uri.EscapeDataString(entity)}", notFoundTitle: null, cancellationToken);

    public async Task<IReadOnlyList<Decision>> GetAlertsAsync(string? entity = null, string? rule = null, int? limit = null, CancellationToken cancellationToken = default)
    {
        using var response = await http.GetAsync(new Uri($"api/alerts{Query(("entity", entity), ("rule", rule), ("limit", limit?.ToString(CultureInfo.InvariantCulture)))}", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), cancellationToken: cancellationToken).ConfigureAwait(false);
        return document.RootElement.EnumerateArray().Select(Decision).ToList();
    }

    public async IAsyncEnumerable<Decision> StreamAlertsAsync(string? entity = null, string? rule = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"api/alerts/stream{Query(("entity", entity), ("rule", rule))}", UriKind.Relative));
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            await foreach (var item in SseParser.Create(stream).EnumerateAsync(cancellationToken).ConfigureAwait(false))
            {
                if (item.EventType == "decision" && DecisionJson.TryParse(Encoding.UTF8.GetBytes(item.Data), out var decision))
                {
                    yield return decision;
                }
            }
        }
    }

    public Task<WindowsResponse?> GetWindowsAsync(string aggregation, string key, DateTimeOffset? from = null, DateTimeOffset? until = null, CancellationToken cancellationToken = default) =>
        GetOrNullAsync<WindowsResponse>(
            $"api/aggregates/{Uri.EscapeDataString(aggregation)}/{Uri.EscapeDataString(key)}{Query(("from", Time(from)), ("to", Time(until)))}",
            notFoundTitle: ApiProblem.UnknownKey,
            cancellationToken);

    public async Task<TopResponse> GetTopAsync(string aggregation, int top = 10, CancellationToken cancellationToken = default)
    {
        using var response = await http.GetAsync(new Uri($"api/aggregates/{Uri.EscapeDataString(aggregation)}?top={top.ToString(CultureInfo.InvariantCulture)}", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        return await ReadAsync<TopResponse>(response, cancellationToken).ConfigureAwait(false);
    }

    public Task<SessionsResponse?> GetSessionsAsync(string aggregation, string key, CancellationToken cancellationToken = default) =>
        GetOrNullAsync<SessionsResponse>($"api/sessions/{Uri.EscapeDataString(aggregation)}/{Uri.EscapeDataString(key)}", notFoundTitle: ApiProblem.UnknownKey, cancellationToken);

    public async Task<StatsResponse> GetStatsAsync(CancellationToken cancellationToken = default)
    {
        using var response = await http.GetAsync(new Uri("api/stats", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        return await ReadAsync<StatsResponse>(response, cancellationToken).ConfigureAwait(false);
    }

    public async Task<InfoResponse> GetInfoAsync(CancellationToken cancellationToken = default)
    {
        using var response = await http.GetAsync(new Uri("api/info", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        return await ReadAsync<InfoResponse>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>GETs a resource; a 404 (with <paramref name="notFoundTitle"/>, when given) is null rather than an error.</summary>
    private async Task<T?> GetOrNullAsync<T>(string path, string? notFoundTitle, CancellationToken cancellationToken)
        where T : class
    {
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            var problem = await ProblemAsync(response, cancellationToken).ConfigureAwait(false);
            if (notFoundTitle is null || problem.Title == notFoundTitle)
            {
                return null;
            }

            throw problem;
        }

        return await ReadAsync<T>(response, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken).ConfigureAwait(false)
            ?? throw new StreamGrainsApiException($"The API answered {(int)response.StatusCode} with an empty body.");
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw await ProblemAsync(response, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The problem+json of a refusal (or what can be said of another body).</summary>
    private static async Task<StreamGrainsApiException> ProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var problem = JsonSerializer.Deserialize<Problem>(text, Json);
            return new StreamGrainsApiException(response.StatusCode, problem?.Title ?? response.ReasonPhrase, problem?.Detail, problem?.Errors);
        }
        catch (JsonException)
        {
            return new StreamGrainsApiException(response.StatusCode, response.ReasonPhrase, text.Length > 500 ? text[..500] : text, errors: null);
        }
    }

    private static Decision Decision(JsonElement element) =>
        DecisionJson.TryParse(Encoding.UTF8.GetBytes(element.GetRawText()), out var decision)
            ? decision
            : throw new StreamGrainsApiException($"The API answered a decision this client cannot read: {element.GetRawText()}");

    private static string? Time(DateTimeOffset? time) => time?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private static string Query(params (string Name, string? Value)[] parameters)
    {
        var present = parameters.Where(p => p.Value is not null).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return present.Count == 0 ? string.Empty : $"?{string.Join('&', present)}";
    }

    private sealed record Problem(string? Title, string? Detail, Dictionary<string, string[]>? Errors);
}
