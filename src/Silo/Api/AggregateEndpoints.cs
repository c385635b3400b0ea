using System.Globalization;

namespace StreamGrains.Silo.Api;

/// <summary>
/// <c>GET /api/aggregates/{name}/{key}</c>, <c>GET /api/aggregates/{name}?top=N</c> and <c>GET /api/sessions/{name}/{key}</c>:
/// live aggregates, asked of the shard that holds the key (any silo answers).
/// </summary>
internal static class AggregateEndpoints
{
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

    private static async Task<IResult> GetWindowsAsync(string name, string key, string? from, string? to, ApiQueries queries)
    {
        var errors = new Dictionary<string, string[]>();
        var fromMs = Time(from, "from", long.MinValue, errors);
        var toMs = Time(to, "to", long.MaxValue, errors);
        return (await queries.WindowsAsync(name, key, fromMs, toMs, errors).ConfigureAwait(false)).ToResult();
    }

    private static async Task<IResult> GetTopAsync(string name, int? top, ApiQueries queries) =>
        (await queries.TopAsync(name, top ?? 10).ConfigureAwait(false)).ToResult();

    private static async Task<IResult> GetSessionsAsync(string name, string key, ApiQueries queries) =>
        (await queries.SessionsAsync(name, key).ConfigureAwait(false)).ToResult();

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
}
