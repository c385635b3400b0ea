using System.Net;

namespace StreamGrains.Client;

/// <summary>The API refused a call: its status and problem details (title, detail, and the invalid fields of a 400).</summary>
public sealed class StreamGrainsApiException : Exception
{
    /// <summary>Creates the exception from a problem+json answer.</summary>
    /// <param name="status">The HTTP status.</param>
    /// <param name="title">The problem's title.</param>
    /// <param name="detail">The problem's detail.</param>
    /// <param name="errors">The invalid fields (for 400), e.g. <c>[1].ts</c>.</param>
    public StreamGrainsApiException(HttpStatusCode status, string? title, string? detail, IReadOnlyDictionary<string, string[]>? errors)
        : base($"{(int)status} {title}{(detail is null ? string.Empty : $": {detail}")}{(errors is { Count: > 0 } ? $" ({string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"))})" : string.Empty)}")
    {
        Status = status;
        Title = title;
        Detail = detail;
        Errors = errors ?? new Dictionary<string, string[]>();
    }

    /// <summary>Creates an exception without a status (for serializers and tools).</summary>
    public StreamGrainsApiException()
        : this(HttpStatusCode.InternalServerError, null, null, null)
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">The message.</param>
    public StreamGrainsApiException(string message)
        : base(message)
    {
        Errors = new Dictionary<string, string[]>();
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public StreamGrainsApiException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = new Dictionary<string, string[]>();
    }

    /// <summary>The HTTP status.</summary>
    public HttpStatusCode Status { get; }

    /// <summary>The problem's title.</summary>
    public string? Title { get; }

    /// <summary>The problem's detail.</summary>
    public string? Detail { get; }

    /// <summary>The invalid fields of a 400, by name (<c>[index].field</c> for events, or the query parameter).</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; }
}
