using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace StreamGrains.Silo.Api.Security;

/// <summary>
/// Authenticates a request by its API key: <c>X-Api-Key: &lt;key&gt;</c>, <c>Authorization: Bearer &lt;key&gt;</c>, or (for a
/// browser opening the dashboard) <c>Authorization: Basic</c> with the key as the password. Refusals are problem+json:
/// 401 for no key or an unknown one, 403 for a key without the route's scope.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyRegistry keys,
    IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The scheme's name.</summary>
    public const string SchemeName = "ApiKey";

    /// <summary>The header that carries the key.</summary>
    public const string HeaderName = "X-Api-Key";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (keys.IsOpen || PresentedKey() is not { } presented)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!keys.TryFind(presented, out var name, out var scopes))
        {
            return Task.FromResult(AuthenticateResult.Fail("Unknown API key."));
        }

        var claims = new List<Claim> { new(ClaimTypes.Name, name) };
        claims.AddRange(scopes.Select(scope => new Claim(ApiScopes.ClaimType, scope)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var presented = PresentedKey() is not null;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        // The dashboard asks a browser for Basic credentials (a lone challenge: Chromium did not take it from a list).
        Response.Headers.WWWAuthenticate = Request.Path.StartsWithSegments("/dashboard", StringComparison.OrdinalIgnoreCase)
            ? new StringValues("Basic realm=\"StreamGrains dashboard (password: an API key with the admin scope)\"")
            : new StringValues(["Bearer", "ApiKey header=\"X-Api-Key\""]);
        await WriteProblemAsync(
            StatusCodes.Status401Unauthorized,
            presented ? "Unknown API key" : "API key required",
            presented
                ? "The API key sent is not one of this cluster's keys."
                : $"This API needs a key: send it as '{HeaderName}: <key>' or 'Authorization: Bearer <key>'.").ConfigureAwait(false);
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var needed = Request.Path.StartsWithSegments("/dashboard", StringComparison.OrdinalIgnoreCase)
            ? ApiScopes.Admin
            : Request.Path.StartsWithSegments("/metrics", StringComparison.OrdinalIgnoreCase) ? "the metrics scope" : ApiScopes.ForMethod(Request.Method);
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await WriteProblemAsync(
            StatusCodes.Status403Forbidden,
            "Scope missing",
            $"The API key '{Context.User.Identity?.Name}' does not have the scope this route needs ({needed}).").ConfigureAwait(false);
    }

    private async Task WriteProblemAsync(int status, string title, string detail) =>
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        }).ConfigureAwait(false);

    private string? PresentedKey()
    {
        if (Request.Headers.TryGetValue(HeaderName, out var header) && !string.IsNullOrEmpty(header.ToString()))
        {
            return header.ToString();
        }

        if (!AuthenticationHeaderValue.TryParse(Request.Headers.Authorization.ToString(), out var authorization) || string.IsNullOrEmpty(authorization.Parameter))
        {
            return null;
        }

        if (string.Equals(authorization.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return authorization.Parameter;
        }

        if (string.Equals(authorization.Scheme, "Basic", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var credentials = Encoding.UTF8.GetString(Convert.FromBase64String(authorization.Parameter));
                var colon = credentials.IndexOf(':', StringComparison.Ordinal);
                return colon >= 0 ? credentials[(colon + 1)..] : null;
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return null;
    }
}
