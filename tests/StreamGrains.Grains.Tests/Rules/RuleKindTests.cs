using StreamGrains.Decisions;
using StreamGrains.Events;
using StreamGrains.Rules;

namespace StreamGrains.Grains.Tests.Rules;

public sealed class RuleKindTests
{
    [Fact]
    public void Threshold_fires_above_and_below_on_value_or_an_attribute_and_only_for_its_event_types()
    {
        var kit = new RuleTestKit(
            ("big", new RuleSettings { Kind = "Threshold", Above = 500, EventTypes = ["payment"] }),
            ("cold", new RuleSettings { Kind = "threshold", Field = "attrs.temp", Below = -10 }));
        kit.Feed(Events.At(1, value: 499, id: "a"));
        kit.Feed(Events.At(2, value: 500, id: "b")); // not greater than 500
        kit.Feed(Events.At(3, value: 501, id: "c"));
        kit.Feed(Events.At(4, "refund", value: 900, id: "d")); // not a payment
        kit.Feed(Events.At(5, "reading", id: "e", attrs: ("temp", -11.5)));
        kit.Feed(Events.At(6, "reading", id: "f", attrs: ("temp", "-20"))); // text, not a number
        kit.Feed(Events.At(7, "reading", id: "g")); // no field: nothing to compare

        Assert.Equal(["c"], kit.FiredOn("big"));
        Assert.Equal(["e"], kit.FiredOn("cold"));
        var big = Assert.Single(kit.Decisions, d => d.Rule == "big");
        Assert.Equal(RuleKind.Threshold, big.Kind);
        Assert.Equal(RuleAction.Alert, big.Action);
        Assert.Equal(501, big.Details["observed"].Number);
        Assert.Equal(500, big.Details["above"].Number);
        Assert.Equal("value", big.Details["field"].Text);
    }

    [Fact]
    public void Velocity_counts_matching_events_in_the_half_open_span_before_each_event_including_out_of_order_ones()
    {
        var kit = new RuleTestKit(("burst", new RuleSettings { Kind = "Velocity", Count = 3, Within = TimeSpan.FromSeconds(10), EventTypes = ["payment"] }));
        kit.Feed(Events.At(0, id: "a"));
        kit.Feed(Events.At(5, id: "b"));
        kit.Feed(Events.At(6, "click", id: "x")); // not counted
        kit.Feed(Events.At(10, id: "c")); // (0, 10]: b, c -> a at exactly ts-10 is out
        kit.Feed(Events.At(11, id: "d")); // (1, 11]: b, c, d -> fires
        kit.Feed(Events.At(8, id: "e")); // 3 s late: (-2, 8]: a, b, e -> fires
        kit.Feed(Events.At(30, id: "f")); // alone
        kit.Feed(Events.At(31, id: "g"));
        kit.Feed(Events.At(39.999, id: "h")); // (29.999, 39.999]: f, g, h -> fires

        Assert.Equal(["d", "e", "h"], kit.FiredOn("burst"));
        var last = kit.Decisions.Last();
        Assert.Equal(3, last.Details["observed"].Number);
        Assert.Equal(10_000, last.Details["withinMs"].Number);

        // The reference: count matching events in (ts - within, ts] over everything fed so far.
        var fed = new List<DateTimeOffset>();
        var expected = new List<string?>();
        foreach (var (evt, _) in kit.Log)
        {
            if (evt.Type != "payment")
            {
                continue;
            }

            fed.Add(evt.Timestamp);
            if (fed.Count(t => t > evt.Timestamp.AddSeconds(-10) && t <= evt.Timestamp) >= 3)
            {
                expected.Add(evt.Id);
            }
        }

        Assert.Equal(expected, kit.FiredOn("burst"));
    }

    [Fact]
    public void Deviation_compares_with_earlier_values_once_there_are_enough()
    {
        var kit = new RuleTestKit(("odd", new RuleSettings { Kind = "Deviation", Sigmas = 3, MinEvents = 4 }));
        double[] values = [10, 12, 10, 12]; // mean 11, stddev 1 after four
        for (var i = 0; i < values.Length; i++)
        {
            kit.Feed(Events.At(i, value: values[i], id: $"v{i}"));
        }

        kit.Feed(Events.At(10, value: 13.9, id: "near")); // 2.9 sigmas
        kit.Feed(Events.At(11, value: 100, id: "far"));
        kit.Feed(Events.At(12, id: "none")); // no value
        Assert.Equal(["far"], kit.FiredOn("odd"));
        var decision = Assert.Single(kit.Decisions);
        Assert.True(decision.Details["z"].Number > 3);
        Assert.Equal(100, decision.Details["value"].Number);

        var early = new RuleTestKit(("odd", new RuleSettings { Kind = "Deviation", Sigmas = 1 })); // MinEvents 20 by default
        for (var i = 0; i < 20; i++)
        {
            early.Feed(Events.At(i, value: i % 2 == 0 ? 1000 : 0, id: $"e{i}"));
        }

        Assert.Empty(early.Decisions); // wild values, but fewer than 20 earlier ones each time
        early.Feed(Events.At(21, value: 5000, id: "after"));
        Assert.Equal(["after"], early.FiredOn("odd"));
    }

    [Fact]
    public void NewValue_fires_on_a_value_never_seen_but_not_on_the_first()
    {
        var kit = new RuleTestKit(("new-country", new RuleSettings { Kind = "NewValue", Attribute = "country", Action = "Flag" }));
        kit.Feed(Events.At(1, id: "a", attrs: ("country", "NL")));
        kit.Feed(Events.At(2, id: "b", attrs: ("country", "NL")));
        kit.Feed(Events.At(3, id: "c")); // no attribute
        kit.Feed(Events.At(4, id: "d", attrs: ("country", "DE")));
        kit.Feed(Events.At(5, id: "e", attrs: ("country", "NL")));
        kit.Feed(Events.At(6, id: "f", attrs: ("country", "DE")));
        kit.Feed(Events.At(7, id: "g", attrs: ("country", "BR")));

        Assert.Equal(["d", "g"], kit.FiredOn("new-country"));
        Assert.Contains("new-country", kit.Profile.Flags); // Flag marks the profile
        Assert.Equal(2, kit.Decisions.Last().Details["knownValues"].Number);
    }

    [Fact]
    public void ContextMismatch_compares_the_event_attribute_with_the_context_attribute()
    {
        var kit = new RuleTestKit(("abroad", new RuleSettings { Kind = "ContextMismatch", Attribute = "country", ContextAttribute = "homeCountry" }));
        kit.Feed(Events.At(1, id: "no-context", attrs: ("country", "BR")));
        kit.Context = new Dictionary<string, AttributeValue> { ["homeCountry"] = "NL" };
        kit.Feed(Events.At(2, id: "home", attrs: ("country", "NL")));
        kit.Feed(Events.At(3, id: "away", attrs: ("country", "BR")));
        kit.Feed(Events.At(4, id: "no-attribute"));

        Assert.Equal(["away"], kit.FiredOn("abroad"));
        var details = Assert.Single(kit.Decisions).Details;
        Assert.Equal("BR", details["value"].Text);
        Assert.Equal("NL", details["contextValue"].Text);
    }

    [Fact]
    public void Expression_sees_value_type_attrs_profile_and_context()
    {
        var kit = new RuleTestKit(("expr", new RuleSettings
        {
            Kind = "Expression",
            Expression = "type == \"payment\" && value > 2 * profile.Mean && profile.Count >= 2 && attrs[\"country\"] != context[\"country\"] && attrs.Number(\"items\") >= 1",
        }));
        kit.Context = new Dictionary<string, AttributeValue> { ["country"] = "NL" };
        kit.Feed(Events.At(1, value: 10, id: "a", attrs: [("country", "BR"), ("items", 1)])); // profile.Count 0
        kit.Feed(Events.At(2, value: 10, id: "b", attrs: [("country", "BR"), ("items", 1)])); // count 1
        kit.Feed(Events.At(3, value: 50, id: "c", attrs: [("country", "BR"), ("items", 2)])); // fires
        kit.Feed(Events.At(4, value: 500, id: "d", attrs: [("country", "NL"), ("items", 2)])); // home
        kit.Feed(Events.At(5, "refund", value: 500, id: "e", attrs: [("country", "BR"), ("items", 2)])); // type
        kit.Feed(Events.At(6, value: 500, id: "f", attrs: ("country", "BR"))); // items missing: NaN >= 1 is false
        kit.Feed(Events.At(7, id: "g", attrs: [("country", "BR"), ("items", 2)])); // no value: NaN

        Assert.Equal(["c"], kit.FiredOn("expr"));
        Assert.Equal(RuleKind.Expression, Assert.Single(kit.Decisions).Kind);
    }

    [Fact]
    public void Flag_enrich_and_filter_show_on_the_profile_and_the_verdict()
    {
        var kit = new RuleTestKit(
            ("flag", new RuleSettings { Kind = "Threshold", Above = 100, Action = "Flag" }),
            ("enrich", new RuleSettings { Kind = "Threshold", Above = 200, Action = "Enrich" }),
            ("drop", new RuleSettings { Kind = "Expression", Expression = "type == \"heartbeat\"", Action = "Filter" }));
        var quiet = kit.Feed(Events.At(1, value: 50));
        Assert.Same(EventVerdict.None, quiet);

        var flagged = kit.Feed(Events.At(2, value: 150));
        Assert.False(flagged.Filtered);
        Assert.Null(flagged.Enrichments);
        Assert.Contains("flag", kit.Profile.Flags);

        var enriched = kit.Feed(Events.At(3, value: 250));
        Assert.Equal(250, enriched.Enrichments!["enrich"]["observed"].Number);
        Assert.Equal(["enrich", "flag"], enriched.Decisions.Select(d => d.Rule).Order());

        var dropped = kit.Feed(Events.At(4, "heartbeat"));
        Assert.True(dropped.Filtered);
        Assert.Equal(RuleAction.Filter, Assert.Single(dropped.Decisions).Action);

        Assert.Equal(4, kit.Profile.Count); // filtered events still count in the profile
        Assert.Equal(2, kit.Profile.DecisionsByRule["flag"]);
    }
}
