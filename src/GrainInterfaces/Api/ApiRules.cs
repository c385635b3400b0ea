using StreamGrains.Events;

namespace StreamGrains.Api;

/// <summary>The limits of the API's query parameters, checked alike by the HTTP API and the cluster client.</summary>
public static class ApiRules
{
    /// <summary>The most decisions one query of recent decisions returns.</summary>
    public const int MaxAlerts = 1_000;

    /// <summary>How many recent decisions a query returns when it names no limit.</summary>
    public const int DefaultAlerts = 100;

    /// <summary>The most keys a top query returns.</summary>
    public const int MaxTop = 1_000;

    /// <summary>The longest rule name a filter may name.</summary>
    public const int MaxRuleLength = 200;

    /// <summary>Checks an entity id or group key: an error message, or null when it is fine.</summary>
    /// <param name="value">The entity or key.</param>
    /// <param name="name">What the parameter is called (<c>entity</c>, <c>key</c>).</param>
    public static string? EntityError(string? value, string name = "entity") =>
        string.IsNullOrEmpty(value) || value.Length > StreamEvent.MaxEntityLength
            ? $"{name} must be 1 to {StreamEvent.MaxEntityLength} characters."
            : null;

    /// <summary>
    /// Checks the filters of a query of decisions (recent or live): the invalid parameters with their messages, none
    /// when all are fine.
    /// </summary>
    /// <param name="entity">Only about this entity (null: any).</param>
    /// <param name="rule">Only of this rule (null: any).</param>
    /// <param name="limit">At most this many (null: the default; ignored by the live stream).</param>
    public static Dictionary<string, string[]> DecisionFilterErrors(string? entity, string? rule, int? limit)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (entity is not null && EntityError(entity) is { } entityError)
        {
            errors["entity"] = [entityError];
        }

        if (rule is not null && (rule.Length == 0 || rule.Length > MaxRuleLength))
        {
            errors["rule"] = [$"rule must be 1 to {MaxRuleLength} characters."];
        }

        if (limit is < 1 or > MaxAlerts)
        {
            errors["limit"] = [$"limit must be a whole number from 1 to {MaxAlerts}."];
        }

        return errors;
    }

    /// <summary>Checks how many top keys are asked for: an error message, or null.</summary>
    /// <param name="top">How many.</param>
    public static string? TopError(int top) => top is < 1 or > MaxTop ? $"top must be 1 to {MaxTop}." : null;
}
