using Microsoft.AspNetCore.Authorization;

namespace StreamGrains.Silo.Api.Security;

/// <summary>
/// Requires an API key with a scope: a fixed one, or (<see cref="Scope"/> null) the one the request's method needs on
/// <c>/api</c> (<see cref="ApiScopes.ForMethod"/>). <c>admin</c> satisfies every scope. With no key configured, every
/// request satisfies it.
/// </summary>
/// <param name="Scope">The scope, or null for "by method".</param>
internal sealed record ApiScopeRequirement(string? Scope) : IAuthorizationRequirement;

/// <summary>Decides <see cref="ApiScopeRequirement"/>.</summary>
internal sealed class ApiScopeHandler(ApiKeyRegistry keys) : AuthorizationHandler<ApiScopeRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ApiScopeRequirement requirement)
    {
        if (keys.IsOpen)
        {
            context.Succeed(requirement);
            return Task.CompletedTask;
        }

        var scope = requirement.Scope ?? (context.Resource is HttpContext http ? ApiScopes.ForMethod(http.Request.Method) : ApiScopes.Admin);
        if (context.User.HasClaim(ApiScopes.ClaimType, scope) || context.User.HasClaim(ApiScopes.ClaimType, ApiScopes.Admin))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
