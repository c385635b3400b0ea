using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using StreamGrains.Client;

namespace StreamGrains.Hosting;

/// <summary>Registers <see cref="IStreamGrainsClient"/> with dependency injection.</summary>
public static class StreamGrainsClientServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="IStreamGrainsClient"/> over the HTTP API: a typed <see cref="HttpClient"/> (from
    /// <see cref="IHttpClientFactory"/>) with the API key, and Microsoft.Extensions.Http.Resilience's standard pipeline
    /// (rate limiter, total timeout, retries with backoff and jitter, circuit breaker, attempt timeout) set from the options.
    /// Only reads are retried: a publish that fails is the caller's to send again (the silo answers it within
    /// <c>Api:PublishTimeout</c> even when Kafka is away, by spilling).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options (base address, key, timeouts, retries).</param>
    /// <returns>The HTTP client builder, to configure further.</returns>
    public static IHttpClientBuilder AddStreamGrainsClient(this IServiceCollection services, Action<StreamGrainsClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<StreamGrainsClientOptions>().Configure(configure).Validate(
            options =>
            {
                options.Validate();
                return true;
            });

        var builder = services.AddHttpClient<IStreamGrainsClient, StreamGrainsHttpClient>((sp, http) =>
        {
            var options = sp.GetRequiredService<IOptions<StreamGrainsClientOptions>>().Value;
            http.BaseAddress = options.BaseAddress.AbsoluteUri.EndsWith('/') ? options.BaseAddress : new Uri(options.BaseAddress.AbsoluteUri + "/");
            http.Timeout = Timeout.InfiniteTimeSpan; // the resilience pipeline times calls out; the live decision stream has no end
            if (options.ApiKey is not null)
            {
                http.DefaultRequestHeaders.Add("X-Api-Key", options.ApiKey);
            }
        });
        builder.AddStandardResilienceHandler().Configure((HttpStandardResilienceOptions resilience, IServiceProvider sp) =>
        {
            var options = sp.GetRequiredService<IOptions<StreamGrainsClientOptions>>().Value;
            resilience.AttemptTimeout.Timeout = options.AttemptTimeout;
            resilience.TotalRequestTimeout.Timeout = options.TotalTimeout;
            resilience.CircuitBreaker.SamplingDuration = options.AttemptTimeout * 2;
            resilience.Retry.MaxRetryAttempts = Math.Max(1, options.MaxRetries);
            resilience.Retry.DisableForUnsafeHttpMethods(); // a POST retried after a lost answer would publish its events twice
            if (options.MaxRetries == 0)
            {
                resilience.Retry.ShouldHandle = _ => ValueTask.FromResult(false);
            }
        });
        return builder;
    }
}
