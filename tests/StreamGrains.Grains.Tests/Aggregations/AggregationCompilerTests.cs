using StreamGrains.Aggregations;

namespace StreamGrains.Grains.Tests.Aggregations;

public sealed class AggregationCompilerTests
{
    private const string Path = "StreamGrains:Aggregations";

    [Fact]
    public void Compiles_each_window_kind_and_grouping()
    {
        var errors = new List<string>();
        var compiled = AggregationCompiler.Compile(new Dictionary<string, AggregationSettings>
        {
            ["per-card"] = new() { EventTypes = ["payment"], Window = new() { Kind = "Tumbling", Size = TimeSpan.FromMinutes(1) } },
            ["clicks"] = new() { GroupBy = "attrs.page", Window = new() { Kind = "hopping", Size = TimeSpan.FromMinutes(5), Advance = TimeSpan.FromMinutes(1) }, AllowedLateness = TimeSpan.FromSeconds(30) },
            ["all"] = new() { GroupBy = "*", Window = new() { Kind = "Tumbling", Size = TimeSpan.FromSeconds(10) } },
            ["visits"] = new() { Window = new() { Kind = "Session", Gap = TimeSpan.FromMinutes(30), MaxDuration = TimeSpan.FromHours(4) }, Retention = TimeSpan.FromDays(1) },
        }, Path, errors);
        Assert.Empty(errors);
        var byName = compiled.ToDictionary(c => c.Name);
        Assert.Equal((WindowKind.Tumbling, GroupKind.Entity, 60_000L), (byName["per-card"].Window.Kind, byName["per-card"].Group, byName["per-card"].Window.SizeMs));
        Assert.Equal((WindowKind.Hopping, GroupKind.Attribute, "page", 60_000L, 30_000L), (byName["clicks"].Window.Kind, byName["clicks"].Group, byName["clicks"].GroupAttribute, byName["clicks"].Window.AdvanceMs, byName["clicks"].AllowedLatenessMs));
        Assert.Equal(GroupKind.Global, byName["all"].Group);
        Assert.Equal((1_800_000L, 14_400_000L, 86_400_000L), (byName["visits"].Window.GapMs, byName["visits"].Window.MaxDurationMs, byName["visits"].RetentionMs));
        Assert.True(byName["per-card"].Takes(Events.At(0)));
        Assert.False(byName["per-card"].Takes(Events.At(0, type: "click")));
    }

    [Theory]
    [InlineData(null, null, null, "StreamGrains:Aggregations:a:Window:Kind")]
    [InlineData("Weekly", null, null, "StreamGrains:Aggregations:a:Window:Kind")]
    [InlineData("Tumbling", null, null, "StreamGrains:Aggregations:a:Window:Size")]
    [InlineData("Hopping", "00:01:00", null, "StreamGrains:Aggregations:a:Window:Advance")]
    [InlineData("Hopping", "00:01:00", "00:02:00", "StreamGrains:Aggregations:a:Window:Advance")]
    [InlineData("Session", null, null, "StreamGrains:Aggregations:a:Window:Gap")]
    [InlineData("Sliding", null, null, "StreamGrains:Aggregations:a:Window:Size")]
    public void Names_the_setting_that_is_missing_or_wrong(string? kind, string? size, string? advance, string setting)
    {
        var errors = new List<string>();
        var settings = new AggregationSettings { Window = new() { Kind = kind, Size = size is null ? null : TimeSpan.Parse(size, System.Globalization.CultureInfo.InvariantCulture), Advance = advance is null ? null : TimeSpan.Parse(advance, System.Globalization.CultureInfo.InvariantCulture) } };
        Assert.Null(AggregationCompiler.Compile("a", settings, $"{Path}:a", errors));
        Assert.Contains(errors, e => e.StartsWith(setting + ":", StringComparison.Ordinal));
    }

    [Fact]
    public void Refuses_a_bad_grouping_a_negative_lateness_a_cap_below_the_gap_and_a_name_unfit_for_urls()
    {
        var errors = new List<string>();
        AggregationCompiler.Compile("a b", new AggregationSettings
        {
            GroupBy = "merchant",
            AllowedLateness = TimeSpan.FromSeconds(-1),
            Window = new() { Kind = "Session", Gap = TimeSpan.FromMinutes(30), MaxDuration = TimeSpan.FromMinutes(10) },
        }, $"{Path}:a b", errors);
        Assert.Contains(errors, e => e.StartsWith($"{Path}:a b:GroupBy:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith($"{Path}:a b:AllowedLateness:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith($"{Path}:a b:Window:MaxDuration:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith($"{Path}:a b:", StringComparison.Ordinal) && e.Contains("name", StringComparison.Ordinal));
    }
}
