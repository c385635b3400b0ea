using System.Globalization;
using DynamicExpresso.Exceptions;
using StreamGrains.Decisions;

namespace StreamGrains.Rules;

/// <summary>Turns configured rules into <see cref="Rule"/>s, naming every setting that is missing or wrong.</summary>
public static class RuleCompiler
{
    /// <summary>The prefix of an attribute field (<c>attrs.country</c>).</summary>
    public const string AttributePrefix = "attrs.";

    /// <summary>Compiles every rule of <paramref name="rules"/>, in name order.</summary>
    /// <param name="rules">The rules by name.</param>
    /// <param name="sectionPath">The configuration path of the rules, e.g. <c>StreamGrains:Rules</c>.</param>
    /// <param name="errors">Where each problem goes, naming its setting.</param>
    public static IReadOnlyList<Rule> Compile(IReadOnlyDictionary<string, RuleSettings> rules, string sectionPath, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(errors);
        var compiled = new List<Rule>(rules.Count);
        foreach (var (name, settings) in rules.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            if (Compile(name, settings, $"{sectionPath}:{name}", errors) is { } rule)
            {
                compiled.Add(rule);
            }
        }

        return compiled;
    }

    /// <summary>Compiles one rule, or adds its problems to <paramref name="errors"/> and returns null.</summary>
    /// <param name="name">The rule's name.</param>
    /// <param name="settings">Its settings.</param>
    /// <param name="path">Its configuration path.</param>
    /// <param name="errors">Where each problem goes.</param>
    public static Rule? Compile(string name, RuleSettings settings, string path, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(errors);
        var before = errors.Count;
        if (string.IsNullOrWhiteSpace(settings.Kind))
        {
            errors.Add($"{path}:Kind: required; one of {string.Join(", ", Enum.GetNames<RuleKind>())}.");
            return null;
        }

        if (!Enum.TryParse<RuleKind>(settings.Kind, ignoreCase: true, out var kind) || !Enum.IsDefined(kind))
        {
            errors.Add($"{path}:Kind: '{settings.Kind}' is not a rule kind; one of {string.Join(", ", Enum.GetNames<RuleKind>())}.");
            return null;
        }

        if (!Enum.TryParse<RuleAction>(settings.Action, ignoreCase: true, out var action) || !Enum.IsDefined(action))
        {
            errors.Add($"{path}:Action: '{settings.Action}' is not an action; one of {string.Join(", ", Enum.GetNames<RuleAction>())}.");
        }

        var types = settings.EventTypes;
        Rule? rule = null;
        switch (kind)
        {
            case RuleKind.Threshold:
                var field = string.IsNullOrWhiteSpace(settings.Field) ? "value" : settings.Field.Trim();
                if (field != "value" && !(field.StartsWith(AttributePrefix, StringComparison.Ordinal) && field.Length > AttributePrefix.Length))
                {
                    errors.Add($"{path}:Field: '{settings.Field}' is neither 'value' nor 'attrs.<name>'.");
                }

                if (settings.Above is null && settings.Below is null)
                {
                    errors.Add($"{path}:Above: a Threshold rule needs Above, Below or both.");
                }
                else if (settings.Above is { } above && settings.Below is { } below && below > above)
                {
                    // Fires on anything outside [below, above]; below > above would fire on everything.
                    errors.Add($"{path}:Below: {Format(below)} is above Above ({Format(above)}); the rule would fire on every event.");
                }

                if (errors.Count == before)
                {
                    rule = new ThresholdRule(name, action, types, field, settings.Above, settings.Below);
                }

                break;
            case RuleKind.Velocity:
                if (settings.Count is not { } count || count < 1)
                {
                    errors.Add($"{path}:Count: a Velocity rule needs a Count of 1 or more.");
                }

                if (settings.Within is not { } within || within <= TimeSpan.Zero)
                {
                    errors.Add($"{path}:Within: a Velocity rule needs a positive Within (e.g. 00:01:00).");
                }

                if (errors.Count == before)
                {
                    rule = new VelocityRule(name, action, types, settings.Count!.Value, settings.Within!.Value);
                }

                break;
            case RuleKind.Deviation:
                if (settings.Sigmas is not { } sigmas || !(sigmas > 0) || !double.IsFinite(sigmas))
                {
                    errors.Add($"{path}:Sigmas: a Deviation rule needs a positive Sigmas (e.g. 3).");
                }

                if (settings.MinEvents < 2)
                {
                    errors.Add($"{path}:MinEvents: at least 2 (a standard deviation needs two values).");
                }

                if (errors.Count == before)
                {
                    rule = new DeviationRule(name, action, types, settings.Sigmas!.Value, settings.MinEvents);
                }

                break;
            case RuleKind.NewValue:
                if (string.IsNullOrWhiteSpace(settings.Attribute))
                {
                    errors.Add($"{path}:Attribute: a NewValue rule needs the attribute it watches.");
                }
                else if (errors.Count == before)
                {
                    rule = new NewValueRule(name, action, types, settings.Attribute.Trim());
                }

                break;
            case RuleKind.ContextMismatch:
                if (string.IsNullOrWhiteSpace(settings.Attribute))
                {
                    errors.Add($"{path}:Attribute: a ContextMismatch rule needs the event attribute it compares.");
                }
                else if (errors.Count == before)
                {
                    var contextAttribute = string.IsNullOrWhiteSpace(settings.ContextAttribute) ? settings.Attribute : settings.ContextAttribute;
                    rule = new ContextMismatchRule(name, action, types, settings.Attribute.Trim(), contextAttribute.Trim());
                }

                break;
            case RuleKind.Expression:
                if (string.IsNullOrWhiteSpace(settings.Expression))
                {
                    errors.Add($"{path}:Expression: an Expression rule needs its expression (e.g. value > 100 && attrs[\"country\"] != context[\"country\"]).");
                    break;
                }

                try
                {
                    rule = new ExpressionRule(name, action, types, settings.Expression);
                }
                catch (DynamicExpressoException ex)
                {
                    errors.Add($"{path}:Expression: '{settings.Expression}' is not a boolean expression over value, type, attrs, profile and context: {ex.Message}");
                }
                catch (InvalidCastException ex)
                {
                    errors.Add($"{path}:Expression: '{settings.Expression}' is not a boolean expression: {ex.Message}");
                }

                if (errors.Count != before)
                {
                    rule = null;
                }

                break;
        }

        return rule;
    }

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
