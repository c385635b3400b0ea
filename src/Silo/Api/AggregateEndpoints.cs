using System.Globalization;
using StreamGrains.Aggregations;
using StreamGrains.Silo.Aggregations;
using StreamGrains.Api;

namespace StreamGrains.Silo.Api;

/// <summary>
/// <c>GET /api/aggregates/{name}/{key}</c>, <c>GET /api/aggregates/{name}?top=N</c> and <c>GET /api/sessions/{name}/{key}</c>:
/// live aggregates, asked of the shard that holds the key (any silo answers).
/// </summary>
internal static class AggregateEndpoints
{
    /// <summary>The most keys a top query returns.</summary>
    public const int MaxTop = 1_000;

    public static IEndpointRouteBuilder MapAggregateEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/aggregates/{name}/{key}", GetWindowsAsync)
            .WithName("GetAggregateWindows")
            .WithSummary("A key's windows of a time-windowed aggregation, open and final, overlapping [from, to) (RFC 3339; default: all retained). 404 for an unknown aggregation or key.");
        endpoints.MapGet("/api/aggregates/{name}", GetTopAsync)
            .WithName("GetTopKeys")
            .WithSummary("The keys with the highest counts in the latest final window of a time-windowed aggregation (top=N, default 10).");
        endpoints.MapGet("/api/sessions/{name}/{key}", GetSessionsAsync)
            .WithName("GetSessions")
            .WithSummary("A key's open and recently closed sessions of a session aggregation. 404 for an unknown aggregation or key.");
        return endpoints;
    }

    private static async Task<IResult> GetWindowsAsync(string name, string key, string? from, string? to, AggregationBook book, AggregatorRouting routing)
    {
        if (!book.ByName.TryGetValue(name, out var definition) || definition.Window.Kind == WindowKind.Session)
        {
            return UnknownAggregation(name, book, sessions: false);
        }

        var errors = new Dictionary<string, string[]>();
        var fromMs = Time(from, "from", long.MinValue, errors);
        var toMs = Time(to, "to", long.MaxValue, errors);
        if (ApiValues.EntityError(key) is { } keyError)
        {
            errors["key"] = [keyError.Replace("entity", "key", StringComparison.Ordinal)];
        }

        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors, title: "Invalid query");
        }

        var windows = await routing.CallAsync(name, routing.ShardOf(definition, key), shard => shard.GetWindows(key, fromMs, toMs)).ConfigureAwait(false);
        return windows is null
            ? Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown key", detail: $"Aggregation '{name}' holds no window of key '{key}'.")
            : Results.Ok(new WindowsResponse(name, key, windows));
    }

    private static async Task<IResult> GetTopAsync(string name, int? top, AggregationBook book, AggregatorRouting routing)
    {
        if (!book.ByName.TryGetValue(name, out var definition) || definition.Window.Kind == WindowKind.Session)
        {
            return UnknownAggregation(name, book, sessions: false);
        }

        var count = top ?? 10;
        if (count is < 1 or > MaxTop)
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["top"] = [$"top must be 1 to {MaxTop}."] }, title: "Invalid query");
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
        return Results.Ok(new TopResponse(name, start, latest, keys));
    }

    private static async Task<IResult> GetSessionsAsync(string name, string key, AggregationBook book, AggregatorRouting routing)
    {
        if (!book.ByName.TryGetValue(name, out var definition) || definition.Window.Kind != WindowKind.Session)
        {
            return UnknownAggregation(name, book, sessions: true);
        }

        if (ApiValues.EntityError(key) is { } keyError)
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["key"] = [keyError.Replace("entity", "key", StringComparison.Ordinal)] }, title: "Invalid query");
        }

        var sessions = await routing.CallAsync(name, routing.ShardOf(definition, key), shard => shard.GetSessions(key)).ConfigureAwait(false);
        return sessions is null
            ? Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown key", detail: $"Aggregation '{name}' holds no session of key '{key}'.")
            : Results.Ok(new SessionsResponse(name, key, sessions));
    }

    private static long Time(string? value, string name, long fallback, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(value))
        {
            return fallback;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time.ToUnixTimeMilliseconds();
        }

        errors[name] = [$"{name} must be a time in RFC 3339, e.g. 2026-11-26T10:00:00Z."];
        return fallback;
    }

    private static IResult UnknownAggregation(string name, AggregationBook book, bool sessions)
    {
        var known = book.All.Where(d => (d.Window.Kind == WindowKind.Session) == sessions).Select(d => d.Name).ToList();
        return Results.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: "Unknown aggregation",
            detail: $"No {(sessions ? "session" : "time-windowed")} aggregation '{name}' is configured; {(known.Count == 0 ? "there is none" : $"there are: {string.Join(", ", known)}")}.");
    }
}
