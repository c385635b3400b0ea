using StreamGrains.Aggregations;

namespace StreamGrains.Silo.Demo;

/// <summary>
/// The aggregations the demo brings, active only while demo traffic runs (a configured aggregation of the same name
/// wins): payments per card per minute, clicks per page in hopping windows, and user sessions. Short windows and a
/// short idle timeout make final windows appear within a minute of <c>dotnet run</c>.
/// </summary>
internal static class DemoAggregations
{
    public static IReadOnlyDictionary<string, AggregationSettings> All { get; } = new Dictionary<string, AggregationSettings>(StringComparer.Ordinal)
    {
        // Count, sum, average and quantiles of each card's payments, per minute.
        ["demo-payments-per-card"] = new() { EventTypes = ["payment"], Window = new() { Kind = "Tumbling", Size = TimeSpan.FromMinutes(1) } },

        // Clicks per page over the last 30 seconds, every 10 seconds.
        ["demo-clicks-per-page"] = new() { EventTypes = ["click"], GroupBy = "attrs.page", Window = new() { Kind = "Hopping", Size = TimeSpan.FromSeconds(30), Advance = TimeSpan.FromSeconds(10) } },

        // A user's clicks, one session until 20 seconds without a click (at most 5 minutes).
        ["demo-user-sessions"] = new() { EventTypes = ["click"], Window = new() { Kind = "Session", Gap = TimeSpan.FromSeconds(20), MaxDuration = TimeSpan.FromMinutes(5) } },
    };
}
