using System.Text.Json;
using StreamGrains.Decisions;
using StreamGrains.Events;

namespace StreamGrains.GrainInterfaces.Tests.Events;

public sealed class DecisionJsonTests
{
    [Fact]
    public void Writes_the_contract_fields_and_reads_them_back()
    {
        var decision = new Decision
        {
            Rule = "big",
            Kind = RuleKind.Threshold,
            Action = RuleAction.Enrich,
            Entity = "card-1",
            EventId = "e-9",
            EventType = "payment",
            EventTimestamp = new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero),
            DecidedAt = new DateTimeOffset(2026, 11, 26, 10, 0, 0, 4, TimeSpan.Zero),
            Details = new Dictionary<string, AttributeValue> { ["field"] = "value", ["observed"] = 900.5, ["strict"] = true },
        };

        var json = DecisionJson.Serialize(decision);
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal(["rule", "kind", "action", "entity", "eventId", "eventType", "eventTs", "decidedAt", "details"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("Threshold", root.GetProperty("kind").GetString());
        Assert.Equal("Enrich", root.GetProperty("action").GetString());
        Assert.Equal("2026-11-26T10:00:00Z", root.GetProperty("eventTs").GetString());
        Assert.Equal("2026-11-26T10:00:00.004Z", root.GetProperty("decidedAt").GetString());
        Assert.Equal(900.5, root.GetProperty("details").GetProperty("observed").GetDouble());

        Assert.True(DecisionJson.TryParse(json, out var back));
        Assert.Equal(decision with { Details = back!.Details }, back);
        Assert.Equal(decision.Details, back.Details);
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{\"rule\":\"r\"}")]
    [InlineData("{\"rule\":\"r\",\"kind\":\"Nope\",\"action\":\"Alert\",\"entity\":\"e\",\"eventType\":\"t\",\"eventTs\":\"2026-11-26T10:00:00Z\",\"decidedAt\":\"2026-11-26T10:00:00Z\"}")]
    public void Anything_else_is_not_a_decision(string json)
    {
        Assert.False(DecisionJson.TryParse(System.Text.Encoding.UTF8.GetBytes(json), out var decision));
        Assert.Null(decision);
    }
}
