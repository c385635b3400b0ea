namespace StreamGrains.Api;

/// <summary>
/// Why the API refuses a query, as the HTTP API answers it (problem+json) and as the cluster client throws it: the HTTP
/// status, a title, a detail, and for a 400 the invalid parameters with their messages.
/// </summary>
/// <param name="Status">The HTTP status (400 or 404).</param>
/// <param name="Title">The problem's title.</param>
/// <param name="Detail">The problem's detail.</param>
/// <param name="Errors">For a 400: each invalid parameter and its messages.</param>
[GenerateSerializer, Immutable, Alias("sg.api.problem")]
public sealed record ApiProblem(
    [property: Id(0)] int Status,
    [property: Id(1)] string Title,
    [property: Id(2)] string? Detail,
    [property: Id(3)] IReadOnlyDictionary<string, string[]>? Errors = null)
{
    /// <summary>The title of the 404 for an entity never seen.</summary>
    public const string UnknownEntity = "Unknown entity";

    /// <summary>The title of the 404 for a key an aggregation holds nothing of.</summary>
    public const string UnknownKey = "Unknown key";

    /// <summary>A 400 naming the invalid parameters.</summary>
    /// <param name="errors">Each invalid parameter and its messages.</param>
    /// <param name="title">The title.</param>
    public static ApiProblem Invalid(IReadOnlyDictionary<string, string[]> errors, string title = "Invalid query") => new(400, title, null, errors);

    /// <summary>A 404.</summary>
    /// <param name="title">The title.</param>
    /// <param name="detail">What was not found.</param>
    public static ApiProblem NotFound(string title, string detail) => new(404, title, detail);
}
