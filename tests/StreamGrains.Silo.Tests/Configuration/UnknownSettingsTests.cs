using Microsoft.Extensions.Configuration;
using StreamGrains.Silo.Configuration;
using StreamGrains.Silo.Hosting;
using StreamGrains.Silo.Tests.Infrastructure;

namespace StreamGrains.Silo.Tests.Configuration;

public sealed class UnknownSettingsTests
{
    private static IReadOnlyList<string> Find(IEnumerable<string> rootSwitches, params (string Key, string Value)[] settings) =>
        UnknownSettings.Find(
            new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build(),
            rootSwitches);

    [Fact]
    public void Every_setting_of_the_shipped_appsettings_is_known()
    {
        var configuration = new ConfigurationBuilder().AddJsonFile(Path.Combine(RepositoryPaths.Root, "src/Silo/appsettings.json")).Build();
        Assert.Empty(UnknownSettings.Find(configuration, []));
    }

    [Fact]
    public void A_misspelled_key_of_a_rule_is_named_too()
    {
        Assert.Equal(
            ["StreamGrains:Rules:big:Abve: no such setting; did you mean StreamGrains:Rules:big:Above?"],
            Find([], ("StreamGrains:Rules:big:Kind", "Threshold"), ("StreamGrains:Rules:big:Abve", "500")));
    }

    [Fact]
    public void A_misspelled_key_is_named_with_the_setting_it_is_probably_a_typo_of()
    {
        Assert.Equal(
            ["StreamGrains:Kafka:Partitons: no such setting; did you mean StreamGrains:Kafka:Partitions?"],
            Find([], ("StreamGrains:Kafka:Partitons", "16")));
        Assert.Equal(
            ["StreamGrains:Telemetry:Otlp:Endpoitn: no such setting; did you mean StreamGrains:Telemetry:Otlp:Endpoint?"],
            Find([], ("StreamGrains:Telemetry:Otlp:Endpoitn", "http://x:4317")));
        Assert.Equal(["StreamGrains:Whatever: no such setting."], Find([], ("StreamGrains:Whatever", "1")));
    }

    [Fact]
    public void Keys_are_compared_without_case_and_open_sections_take_any_name()
    {
        Assert.Empty(Find(
            [],
            ("streamgrains:KAFKA:partitions", "4"),
            ("StreamGrains:Kafka:Properties:socket.timeout.ms", "30000"),
            ("StreamGrains:Kafka:Properties:security.protocol", "SASL_SSL")));
        Assert.Single(Find([], ("StreamGrains:Kafka:Partitions:Count", "4"))); // a single value has no children
    }

    [Fact]
    public void A_command_line_switch_near_a_known_one_is_a_typo_and_others_pass()
    {
        Assert.Equal(["--partiton: no such switch; did you mean --partitions?"], Find(["partiton"]));
        Assert.Equal(["--demo-rte: no such switch; did you mean --demo-rate?"], Find(["demo-rte"]));
        Assert.Equal(["StreamGrain: no such setting; did you mean StreamGrains?"], Find(["StreamGrain"]));
        Assert.Empty(Find(["partitions", "urls", "environment", "StreamGrains", "something-else-entirely"]));
    }

    [Theory]
    [InlineData("partitons", "partitions", 1)]
    [InlineData("partiton", "partitions", 2)]
    [InlineData("storage", "storage", 0)]
    [InlineData("stroage", "storage", 1)]
    public void Distance_counts_edits_and_swaps(string a, string b, int expected) => Assert.Equal(expected, UnknownSettings.Distance(a, b));

    [Fact]
    public void Enum_like_settings_are_case_insensitive()
    {
        var options = StreamGrainsSilo.ReadOptions(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["StreamGrains:Kafka:StartFrom"] = "earliest",
            ["StreamGrains:Storage:Kind"] = "MEMORY",
            ["StreamGrains:Telemetry:Otlp:Protocol"] = "GRPC",
        }).Build());
        Assert.Empty(StreamGrainsOptionsValidator.Errors(options));
    }
}
