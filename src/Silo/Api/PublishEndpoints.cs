using System.Text.Json;
using Confluent.Kafka;
using ErrorCode = Confluent.Kafka.ErrorCode;
using Microsoft.Extensions.Options;
using StreamGrains.Events;
using StreamGrains.Kafka.Publishing;
using StreamGrains.Silo.Configuration;
using StreamGrains.Api;

namespace StreamGrains.Silo.Api;

/// <summary>
/// <c>POST /api/events</c>: one event or a JSON array of events in the event contract. <c>202 {"accepted": n, "spilled": m}</c>
/// once each is acknowledged by Kafka or in the silo's spill log (<see cref="SpillingProducer"/>); any invalid item:
/// <c>400</c> problem+json whose <c>errors</c> are keyed <c>[index].field</c>, and nothing of the request is published.
/// </summary>
internal static class PublishEndpoints
{
    public static IEndpointRouteBuilder MapPublishEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/api/events", PublishAsync)
            .WithName("PublishEvents")
            .WithSummary("Publishes one event or a JSON array of events; 202 {\"accepted\": n, \"spilled\": m} once each is acknowledged by Kafka or in the silo's spill log (Kafka away); 400 naming each bad item's index and field, publishing nothing.")
            .Accepts<JsonElement>("application/json")
            .Produces<PublishResponse>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return endpoints;
    }

    private static async Task<IResult> PublishAsync(HttpContext context, SpillingProducer publisher, IOptions<StreamGrainsOptions> settings, CancellationToken cancellationToken)
    {
        var options = settings.Value;
        var limit = options.Api.MaxRequestBytes;
        if (context.Request.ContentLength > limit)
        {
            return TooLarge(limit);
        }

        var body = await ReadBodyAsync(context.Request.Body, limit, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return TooLarge(limit);
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var events = Parse(body, options.Api.MaxEventsPerRequest, errors);
        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors, title: "Invalid events", detail: "Nothing of this request was published.");
        }

        int spilled;
        try
        {
            spilled = await publisher.PublishAsync(events.Select(e => (e.Entity, StreamEventJson.Serialize(e))).ToList()).ConfigureAwait(false);
        }
        catch (SpillLogFullException ex)
        {
            // Kafka away for long (or the log still being sent): refused whole, so the client may send it again as it is.
            context.Response.Headers.RetryAfter = "5";
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The spill log is full", detail: $"{ex.Message} (StreamGrains:Api:MaxSpillBytes)");
        }
        catch (ProduceException<string, byte[]> ex)
        {
            // Refused for good (waiting would not help): a 4xx, which clients do not retry; the others of the request are
            // in Kafka or the spill log.
            var tooLarge = ex.Error.Code is ErrorCode.MsgSizeTooLarge;
            return Results.Problem(
                statusCode: tooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status422UnprocessableEntity,
                title: tooLarge ? "An event is larger than Kafka takes" : "Kafka refused an event",
                detail: $"{ex.Error.Reason}. The other events of this request are taken; sending it again publishes those twice.");
        }

        return Results.Json(new PublishResponse(events.Count, spilled), statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>
    /// The body, or null when it is longer than <paramref name="limit"/> (a chunked one, whose length shows only while
    /// reading). Read here rather than cut off by Kestrel's own limit (which is a few times larger, against abuse):
    /// answering 413 while the client still sends made the server reset the connection before the client read the answer.
    /// </summary>
    private static async Task<byte[]?> ReadBodyAsync(Stream body, long limit, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }

        return buffer.ToArray();
    }

    /// <summary>The events of a body (an event object or an array of them); every problem goes to <paramref name="errors"/>.</summary>
    internal static List<StreamEvent> Parse(ReadOnlySpan<byte> body, int maxEvents, Dictionary<string, string[]> errors)
    {
        var events = new List<StreamEvent>();
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 16 });
            if (!reader.Read() || reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
            {
                errors["body"] = ["The body must be an event (a JSON object) or a JSON array of events."];
                return events;
            }

            if (reader.TokenType == JsonTokenType.StartObject)
            {
                reader.Skip();
                Item(body[..(int)reader.BytesConsumed], 0, events, errors);
            }
            else
            {
                var index = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (index == maxEvents)
                    {
                        errors["body"] = [$"At most {maxEvents} events per request (StreamGrains:Api:MaxEventsPerRequest)."];
                        return events;
                    }

                    var start = (int)reader.TokenStartIndex;
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        reader.Skip();
                        errors[$"[{index}]"] = ["An event must be a JSON object."];
                    }
                    else
                    {
                        reader.Skip();
                        Item(body[start..(int)reader.BytesConsumed], index, events, errors);
                    }

                    index++;
                }

                if (index == 0)
                {
                    errors["body"] = ["The array holds no event."];
                }
            }

            if (reader.Read())
            {
                errors["body"] = ["Unexpected content after the JSON value."];
            }
        }
        catch (JsonException ex)
        {
            errors["body"] = [$"Not valid JSON: {ex.Message}"];
        }

        return events;
    }

    private static void Item(ReadOnlySpan<byte> json, int index, List<StreamEvent> events, Dictionary<string, string[]> errors)
    {
        if (StreamEventJson.TryParse(json, key: null, out var evt, out var rejection))
        {
            events.Add(evt);
            return;
        }

        rejection.AddTo(errors, index);
    }

    private static IResult TooLarge(long limit) => Results.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "Request too large",
        detail: $"The body may be at most {limit} bytes (StreamGrains:Api:MaxRequestBytes).");
}
