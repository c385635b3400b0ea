using System.Globalization;
using System.Net.ServerSentEvents;
using System.Text;
using StreamGrains.Silo.Decisions;

namespace StreamGrains.Silo.Api;

/// <summary>
/// <c>GET /api/alerts</c> (recent decisions of the whole cluster, newest first) and <c>GET /api/alerts/stream</c> (live,
/// as server-sent events <c>event: decision</c> whose data is the decision record's JSON).
/// </summary>
internal static class AlertEndpoints
{
    /// <summary>The most decisions one request returns.</summary>
    public const int MaxLimit = 1_000;

    public static IEndpointRouteBuilder MapAlertEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/alerts", GetAlerts)
            .WithName("GetAlerts")
            .WithSummary($"Recent decisions, newest first: ?entity=&rule=&limit= (limit 1 to {MaxLimit}, default 100).");
        endpoints.MapGet("/api/alerts/stream", StreamAlerts)
            .WithName("StreamAlerts")
            .WithSummary("Decisions as they are made, as server-sent events (event: decision; data: the decision record): ?entity=&rule=.");
        return endpoints;
    }

    private static IResult GetAlerts(HttpContext context, DecisionFeed feed)
    {
        if (!TryFilters(context, out var entity, out var rule, out var limit, out var errors))
        {
            return Results.ValidationProblem(errors, title: "Invalid query");
        }

        var json = new StringBuilder("[");
        foreach (var item in feed.Recent(entity, rule, limit))
        {
            json.Append(json.Length > 1 ? "," : string.Empty).Append(Encoding.UTF8.GetString(item.Json));
        }

        return Results.Text(json.Append(']').ToString(), "application/json", Encoding.UTF8);
    }

    private static IResult StreamAlerts(HttpContext context, DecisionFeed feed, CancellationToken cancellationToken)
    {
        if (!TryFilters(context, out var entity, out var rule, out _, out var errors))
        {
            return Results.ValidationProblem(errors, title: "Invalid query");
        }

        context.Response.Headers["X-Accel-Buffering"] = "no"; // nginx: pass events on at once
        return TypedResults.ServerSentEvents(Items(feed, entity, rule, cancellationToken));
    }

    private static async IAsyncEnumerable<SseItem<string>> Items(DecisionFeed feed, string? entity, string? rule, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var item in feed.Subscribe(cancellationToken).ConfigureAwait(false))
        {
            if ((entity is null || item.Decision.Entity == entity) && (rule is null || item.Decision.Rule == rule))
            {
                yield return new SseItem<string>(Encoding.UTF8.GetString(item.Json), "decision");
            }
        }
    }

    private static bool TryFilters(HttpContext context, out string? entity, out string? rule, out int limit, out Dictionary<string, string[]> errors)
    {
        var query = context.Request.Query;
        errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        entity = query.ContainsKey("entity") ? query["entity"].ToString() : null;
        if (entity is not null && ApiValues.EntityError(entity) is { } entityError)
        {
            errors["entity"] = [entityError];
        }

        rule = query.ContainsKey("rule") ? query["rule"].ToString() : null;
        if (rule is { Length: 0 or > 200 })
        {
            errors["rule"] = ["rule must be 1 to 200 characters."];
        }

        limit = 100;
        if (query.ContainsKey("limit") && (!int.TryParse(query["limit"], NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > MaxLimit))
        {
            errors["limit"] = [$"limit must be a whole number from 1 to {MaxLimit}."];
        }

        return errors.Count == 0;
    }
}
