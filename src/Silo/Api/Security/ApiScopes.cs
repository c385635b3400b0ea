namespace StreamGrains.Silo.Api.Security;

/// <summary>The scopes an API key may hold, and the authorization policies that require them.</summary>
internal static class ApiScopes
{
    /// <summary>The GET routes of <c>/api</c>.</summary>
    public const string Read = "read";

    /// <summary><c>POST /api/events</c>.</summary>
    public const string Write = "write";

    /// <summary>The dashboard; it also grants read and write.</summary>
    public const string Admin = "admin";

    /// <summary>The policy of <c>/api</c>: <see cref="Read"/> for GET and HEAD, <see cref="Write"/> for the rest.</summary>
    public const string ApiPolicy = "streamgrains-api";

    /// <summary>The claim type a key's scopes travel in.</summary>
    public const string ClaimType = "scope";

    /// <summary>The policy that requires <paramref name="scope"/>.</summary>
    public static string Policy(string scope) => $"streamgrains-scope-{scope.ToLowerInvariant()}";

    /// <summary>Whether <paramref name="scope"/> names a scope (without regard to case).</summary>
    public static bool IsScope(string? scope) =>
        string.Equals(scope, Read, StringComparison.OrdinalIgnoreCase) || string.Equals(scope, Write, StringComparison.OrdinalIgnoreCase) || string.Equals(scope, Admin, StringComparison.OrdinalIgnoreCase);

    /// <summary>The scope a request to <c>/api</c> with <paramref name="method"/> needs.</summary>
    public static string ForMethod(string method) => HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) ? Read : Write;
}
