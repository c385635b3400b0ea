using System.Reflection;
using StreamGrains.Api;

namespace StreamGrains.Silo.Api;

/// <summary><c>GET /api/info</c>: what this silo is and which Kafka it uses; tests and tools find the embedded broker here.</summary>
internal static class InfoEndpoints
{
    public static string Version { get; } =
        typeof(InfoEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(InfoEndpoints).Assembly.GetName().Version?.ToString()
        ?? "0.0.0";

    public static IEndpointRouteBuilder MapInfoEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/info", GetInfoAsync)
            .WithName("GetInfo")
            .WithSummary("The silo's version, address, Kafka and storage.");
        return endpoints;
    }

    private static Task<InfoResponse> GetInfoAsync(ApiQueries queries, CancellationToken cancellationToken) => queries.InfoAsync(cancellationToken);
}
