using StreamGrains.Rules;

namespace StreamGrains.Silo.Demo;

/// <summary>
/// The rules the demo brings, active only while demo traffic runs (besides any configured rule; a configured rule of
/// the same name wins). Tuned to the demo's traffic: ordinary cards pay 20 to 90 in their home country at a few
/// payments a minute; suspicious cards burst large online payments from other countries.
/// </summary>
internal static class DemoRules
{
    public static IReadOnlyDictionary<string, RuleSettings> All { get; } = new Dictionary<string, RuleSettings>(StringComparer.Ordinal)
    {
        // A single large payment.
        ["demo-large-payment"] = new() { Kind = "Threshold", EventTypes = ["payment"], Field = "value", Above = 1000 },

        // Four payments within two seconds: a burst (ordinary cards pay a few times a minute).
        ["demo-payment-burst"] = new() { Kind = "Velocity", EventTypes = ["payment"], Count = 4, Within = TimeSpan.FromSeconds(2), Action = "Flag" },

        // A payment from a country the card never paid in.
        ["demo-new-country"] = new() { Kind = "NewValue", EventTypes = ["payment"], Attribute = "country", Action = "Flag" },

        // An amount far from what the card usually pays.
        ["demo-unusual-amount"] = new() { Kind = "Deviation", EventTypes = ["payment"], Sigmas = 4, MinEvents = 20 },

        // Tell downstream consumers (events.enriched) when a payment is over three times the card's mean.
        ["demo-above-usual"] = new() { Kind = "Expression", EventTypes = ["payment"], Expression = "profile.ValueCount >= 5 && value > 3 * profile.Mean", Action = "Enrich" },
    };
}
