using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace StreamGrains.Silo.Health;

/// <summary>Health answers as JSON: the overall status and each check's status and description.</summary>
internal static class HealthResponses
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new HealthBody(
            report.Status.ToString(),
            report.Entries.ToDictionary(e => e.Key, e => new HealthEntry(e.Value.Status.ToString(), e.Value.Description), StringComparer.Ordinal));
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, Json));
    }

    private sealed record HealthBody(string Status, IReadOnlyDictionary<string, HealthEntry> Checks);

    private sealed record HealthEntry(string Status, string? Description);
}
