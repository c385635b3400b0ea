using System.Text.Json;

namespace StreamGrains.Silo.Tests.Infrastructure;

/// <summary>Final-window records of the <c>aggregates</c> topic, read back.</summary>
internal static class AggregateRecords
{
    /// <summary>The distinct counts published for each (key, window start): one count each when windows are exact, even if published twice.</summary>
    public static Dictionary<(string Key, DateTimeOffset Start), List<long>> CountsByWindow(this IEnumerable<JsonElement> records) =>
        records.GroupBy(j => (j.GetProperty("key").GetString()!, j.GetProperty("windowStart").GetDateTimeOffset()))
            .ToDictionary(g => g.Key, g => g.Select(j => j.GetProperty("count").GetInt64()).Distinct().ToList());
}
