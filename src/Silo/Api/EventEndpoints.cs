using System.Globalization;
using StreamGrains.Storage.Archive;

namespace StreamGrains.Silo.Api;

/// <summary><c>GET /api/events</c>: the event archive (PostgreSQL storage only).</summary>
internal static class EventEndpoints
{
    public static IEndpointRouteBuilder MapEventEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/events", GetEventsAsync)
            .WithName("GetEvents")
            .WithSummary("Archived events, newest first: ?entity=&from=&to=&limit= (from/to RFC 3339, limit 1 to 1000, default 100).");
        return endpoints;
    }

    private static async Task<IResult> GetEventsAsync(HttpContext context, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (services.GetService<EventArchiveReader>() is not { } reader)
        {
            return Results.Problem(
                statusCode: StatusCodes.Status404NotFound,
                title: "The event archive is off",
                detail: services.GetService<Npgsql.NpgsqlDataSource>() is null
                    ? "Events are archived with PostgreSQL storage (--storage postgres and ConnectionStrings:StreamGrains)."
                    : "This silo uses PostgreSQL, but StreamGrains:Archive:Enabled is false.");
        }

        var query = context.Request.Query;
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var entity = query["entity"].ToString();
        if (query.ContainsKey("entity") && (entity.Length == 0 || entity.Length > Events.StreamEvent.MaxEntityLength))
        {
            errors["entity"] = [$"entity must be 1 to {Events.StreamEvent.MaxEntityLength} characters."];
        }

        var from = Time(query["from"].ToString(), "from", errors);
        var to = Time(query["to"].ToString(), "to", errors);
        if (from is { } f && to is { } t && f > t)
        {
            errors["to"] = ["to must not be before from."];
        }

        var limit = 100;
        if (query.ContainsKey("limit") && (!int.TryParse(query["limit"], NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > EventArchiveReader.MaxLimit))
        {
            errors["limit"] = [$"limit must be a whole number from 1 to {EventArchiveReader.MaxLimit}."];
        }

        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors, title: "Invalid query");
        }

        var events = await reader.QueryAsync(query.ContainsKey("entity") ? entity : null, from, to, limit, cancellationToken).ConfigureAwait(false);
        return Results.Ok(new EventsResponse(events.Select(e => new ArchivedEventInfo(
            e.Topic, e.Partition, e.Offset, e.Id, e.Entity, e.Type, e.Timestamp, e.Value,
            e.Attributes is null ? null : System.Text.Json.JsonDocument.Parse(e.Attributes).RootElement.Clone())).ToList()));
    }

    private static DateTimeOffset? Time(string text, string name, Dictionary<string, string[]> errors)
    {
        if (text.Length == 0)
        {
            return null;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time) && text.Contains('T', StringComparison.Ordinal))
        {
            return time;
        }

        errors[name] = [$"{name} must be an RFC 3339 time, e.g. 2026-11-24T10:00:00Z; was '{(text.Length > 40 ? text[..40] + "…" : text)}'."];
        return null;
    }
}

/// <summary>The body of <c>GET /api/events</c>.</summary>
/// <param name="Events">The events, newest first.</param>
public sealed record EventsResponse(IReadOnlyList<ArchivedEventInfo> Events);

/// <summary>One archived event.</summary>
/// <param name="Topic">The Kafka topic it was read from.</param>
/// <param name="Partition">The partition.</param>
/// <param name="Offset">The offset.</param>
/// <param name="Id">The event id, when it has one.</param>
/// <param name="Entity">The entity.</param>
/// <param name="Type">The event type.</param>
/// <param name="Ts">The event time.</param>
/// <param name="Value">The value, when it has one.</param>
/// <param name="Attrs">The attributes, when it has any.</param>
public sealed record ArchivedEventInfo(string Topic, int Partition, long Offset, string? Id, string Entity, string Type, DateTimeOffset Ts, double? Value, System.Text.Json.JsonElement? Attrs);
