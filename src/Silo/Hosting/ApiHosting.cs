using System.Diagnostics.Metrics;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;
using Scalar.AspNetCore;
using StreamGrains.Kafka.Publishing;
using StreamGrains.Silo.Api;
using StreamGrains.Silo.Api.Security;
using StreamGrains.Silo.Configuration;
using StreamGrains.Silo.Kafka;

namespace StreamGrains.Silo.Hosting;

/// <summary>
/// The public HTTP API around the endpoints: API keys and their scopes, the request size limit, rate limits, and the
/// OpenAPI document (<c>/openapi/v1.json</c>) with its reference page (<c>/api-docs</c>).
/// </summary>
internal static class ApiHosting
{
    /// <summary>The rate-limiting policy of <c>/api</c>, the dashboard and a scoped <c>/metrics</c> (one limit per client across them).</summary>
    public const string RateLimitPolicy = "streamgrains-api";

    /// <summary>Where a silo keeps the spill log of <c>POST /api/events</c>: <c>Api:SpillDirectory</c>, or one per cluster and silo port under the temp directory.</summary>
    public static string SpillDirectory(StreamGrainsOptions options) =>
        !string.IsNullOrWhiteSpace(options.Api.SpillDirectory)
            ? options.Api.SpillDirectory
            : Path.Combine(Path.GetTempPath(), "streamgrains-spill", $"{options.Cluster.ClusterId}-{options.Cluster.SiloPort}");

    /// <summary>The producer of <c>POST /api/events</c>: the platform's, lingering 1 ms (a request waits for its acknowledgements).</summary>
    private static Confluent.Kafka.ProducerConfig PublishConfig(KafkaEnvironment kafka)
    {
        var config = kafka.ProducerConfig("streamgrains-api");
        config.LingerMs = 1;
        return config;
    }

    public static void AddStreamGrainsApi(this WebApplicationBuilder builder, StreamGrainsOptions options)
    {
        var api = options.Api;
        builder.Services.AddSingleton(new ApiKeyRegistry(api));
        builder.Services.AddSingleton<ApiQueries>();
        builder.Services.AddSingleton(sp => new SpillingProducer(
            new SpillingProducerOptions
            {
                Producer = PublishConfig(sp.GetRequiredService<KafkaEnvironment>()),
                Topic = sp.GetRequiredService<KafkaEnvironment>().InputTopic,
                SpillDirectory = SpillDirectory(options),
                PublishTimeout = api.PublishTimeout,
                MaxSpillBytes = api.MaxSpillBytes,
                MetricPrefix = "streamgrains.api",
            },
            sp.GetRequiredService<IMeterFactory>(),
            sp.GetRequiredService<ILogger<SpillingProducer>>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SpillingProducer>());
        // Kestrel's own limit is a backstop against abuse; POST /api/events enforces MaxRequestBytes itself, so that a
        // body a little too large gets its 413 on a connection that stays sound (Kestrel drains the rest).
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = api.MaxRequestBytes * 4);

        builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, _ => { });
        builder.Services.AddSingleton<IAuthorizationHandler, ApiScopeHandler>();
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ApiScopes.ApiPolicy, policy => policy.AddRequirements(new ApiScopeRequirement(null)))
            .AddPolicy(ApiScopes.Policy(ApiScopes.Read), policy => policy.AddRequirements(new ApiScopeRequirement(ApiScopes.Read)))
            .AddPolicy(ApiScopes.Policy(ApiScopes.Write), policy => policy.AddRequirements(new ApiScopeRequirement(ApiScopes.Write)))
            .AddPolicy(ApiScopes.Policy(ApiScopes.Admin), policy => policy.AddRequirements(new ApiScopeRequirement(ApiScopes.Admin)));

        builder.Services.Configure<ForwardedHeadersOptions>(forwarded =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            forwarded.ForwardLimit = null; // every trusted hop (a cloud balancer before nginx), up to the first untrusted address
            forwarded.KnownProxies.Clear(); // only the configured ones, not ASP.NET's loopback defaults
            forwarded.KnownIPNetworks.Clear();
            foreach (var proxy in api.TrustedProxies)
            {
                if (ApiSettings.TryParseProxy(proxy, out var address, out var network))
                {
                    if (address is not null)
                    {
                        forwarded.KnownProxies.Add(address);
                    }
                    else
                    {
                        forwarded.KnownIPNetworks.Add(network);
                    }
                }
            }
        });

        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(RateLimitPolicy, context =>
            {
                if (api.RateLimit.PermitLimit == 0)
                {
                    return RateLimitPartition.GetNoLimiter("off");
                }

                // Per client: the API key's name, or the remote address where the API is open (or no key was sent).
                var client = context.User.Identity?.IsAuthenticated == true ? $"key:{context.User.Identity.Name}" : $"ip:{context.Connection.RemoteIpAddress}";
                return RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = api.RateLimit.PermitLimit,
                    Window = api.RateLimit.Window,
                    QueueLimit = 0,
                });
            });
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                var response = rejected.HttpContext.Response;
                response.StatusCode = StatusCodes.Status429TooManyRequests;
                if (rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                }

                await rejected.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = rejected.HttpContext,
                    ProblemDetails =
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too many requests",
                        Detail = $"At most {api.RateLimit.PermitLimit} requests per {api.RateLimit.Window} per client (StreamGrains:Api:RateLimit).",
                    },
                }).ConfigureAwait(false);
            };
        });

        builder.Services.AddOpenApi("v1", openApi => openApi.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "StreamGrains API";
            document.Info.Description = "Publish events; read profiles, decisions, aggregates, sessions and statistics. With API keys configured, send X-Api-Key or Authorization: Bearer.";
            return Task.CompletedTask;
        }));
    }

    /// <summary>
    /// The client's address and scheme from trusted load balancers' <c>X-Forwarded-For</c> and <c>-Proto</c>, when
    /// <c>Api:TrustedProxies</c> names any: first in the pipeline, so that everything after sees the client.
    /// </summary>
    public static void UseTrustedProxies(this WebApplication app, ApiSettings api)
    {
        if (api.TrustedProxies.Count > 0)
        {
            app.UseForwardedHeaders();
        }
    }

    /// <summary>
    /// Authentication, rate limiting and authorization, in that order: the limiter partitions by the key authentication
    /// found, or by address; before authorization, so that refused requests count too (a wrong key gets its 401 only
    /// within its address's limit: guessing keys is as slow as the limit, and a valid key is never limited with them).
    /// </summary>
    public static void UseStreamGrainsApi(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
    }

    /// <summary>The conventions of every <c>/api</c> route: the scope its method needs, and the rate limit.</summary>
    public static TBuilder RequireApiAccess<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(ApiScopes.ApiPolicy).RequireRateLimiting(RateLimitPolicy);

    /// <summary>The OpenAPI document and the reference page; both open, like <c>/health</c>.</summary>
    public static void MapStreamGrainsApiDocs(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapScalarApiReference("/api-docs", reference => reference
            .WithTitle("StreamGrains API")
            .WithOpenApiRoutePattern("/openapi/{documentName}.json"));
    }
}
