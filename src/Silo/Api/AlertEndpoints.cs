using System.Globalization;
using System.Text;
using StreamGrains.Api;
using StreamGrains.Silo.Decisions;

namespace StreamGrains.Silo.Api;

/// <summary>
/// <c>GET /api/alerts</c> (recent decisions of the whole cluster, newest first) and <c>GET /api/alerts/stream</c> (live,
/// as server-sent events <c>event: decision</c> whose data is the decision record's JSON).
/// </summary>
internal static class AlertEndpoints
{
    public static IEndpointRouteBuilder MapAlertEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/alerts", GetAlerts)
            .WithName("GetAlerts")
            .WithSummary($"Recent decisions, newest first: ?entity=&rule=&limit= (limit 1 to {ApiRules.MaxAlerts}, default 100).");
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

    private static IResult StreamAlerts(HttpContext context, DecisionFeed feed)
    {
        if (!TryFilters(context, out var entity, out var rule, out _, out var errors))
        {
            return Results.ValidationProblem(errors, title: "Invalid query");
        }

        return new DecisionEventStream(feed, entity, rule);
    }

    /// <summary>
    /// The server-sent events of <c>/api/alerts/stream</c>: headers and a first comment at once (so that neither a
    /// client nor a proxy waits for the first decision), a comment every 15 s while nothing happens (so that idle
    /// connections stay open through proxies), and each matching decision as <c>event: decision</c>.
    /// </summary>
    private sealed class DecisionEventStream(DecisionFeed feed, string? entity, string? rule) : IResult
    {
        private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            var cancellationToken = httpContext.RequestAborted;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no"; // nginx: pass events on at once
            await response.WriteAsync(": decisions\n\n", cancellationToken).ConfigureAwait(false);
            await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);

            var items = feed.Subscribe(entity, rule, cancellationToken).GetAsyncEnumerator(cancellationToken);
            var next = items.MoveNextAsync().AsTask();
            try
            {
                while (true)
                {
                    if (await Task.WhenAny(next, Task.Delay(KeepAlive, cancellationToken)).ConfigureAwait(false) != next)
                    {
                        await response.WriteAsync(": keep-alive\n\n", cancellationToken).ConfigureAwait(false);
                        await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
                        continue;
                    }

                    if (!await next.ConfigureAwait(false))
                    {
                        return;
                    }

                    await response.WriteAsync("event: decision\ndata: ", cancellationToken).ConfigureAwait(false);
                    await response.Body.WriteAsync(items.Current.Json, cancellationToken).ConfigureAwait(false);
                    await response.WriteAsync("\n\n", cancellationToken).ConfigureAwait(false);
                    await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);

                    next = items.MoveNextAsync().AsTask();
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The client went away.
            }
            finally
            {
                // The enumerator may be disposed only once no MoveNextAsync is in flight.
                try
                {
                    await next.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }

                await items.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static bool TryFilters(HttpContext context, out string? entity, out string? rule, out int limit, out Dictionary<string, string[]> errors)
    {
        var query = context.Request.Query;
        entity = query.ContainsKey("entity") ? query["entity"].ToString() : null;
        rule = query.ContainsKey("rule") ? query["rule"].ToString() : null;
        limit = ApiRules.DefaultAlerts;
        var limitParsed = !query.ContainsKey("limit") || int.TryParse(query["limit"], NumberStyles.None, CultureInfo.InvariantCulture, out limit);
        errors = ApiRules.DecisionFilterErrors(entity, rule, limitParsed ? limit : 0);
        return errors.Count == 0;
    }
}
