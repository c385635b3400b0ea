namespace StreamGrains.Events;

/// <summary>Why a record does not satisfy the event contract; the reason codes travel in dead-letter headers.</summary>
/// <param name="Reason">A stable, machine-readable code: one of the constants of this type.</param>
/// <param name="Detail">What exactly is wrong, for people.</param>
public sealed record EventRejection(string Reason, string Detail)
{
    /// <summary>The record's value is not well-formed UTF-8 JSON, or not a JSON object.</summary>
    public const string InvalidJson = "invalid-json";

    /// <summary>A required field (<c>entity</c>, <c>type</c>, <c>ts</c>) is missing.</summary>
    public const string MissingField = "missing-field";

    /// <summary>A field has the wrong type or an out-of-range value.</summary>
    public const string InvalidField = "invalid-field";

    /// <summary>The record's key and its <c>entity</c> field name different entities.</summary>
    public const string EntityMismatch = "entity-mismatch";

    /// <summary>The record is larger than the configured limit.</summary>
    public const string Oversized = "oversized";

    /// <summary>The event fields at fault (<c>entity</c>, <c>ts</c>, <c>attrs.page</c>...), when known.</summary>
    public IReadOnlyList<string>? Fields { get; init; }

    /// <summary>
    /// Adds this rejection of the item at <paramref name="index"/> of a batch to a validation problem's errors, as the
    /// API names them: <c>[index].field</c> for each rejected field, <c>[index]</c> when it names none.
    /// </summary>
    /// <param name="errors">The errors.</param>
    /// <param name="index">The item's index in its batch.</param>
    public void AddTo(IDictionary<string, string[]> errors, int index)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (Fields is not { Count: > 0 } fields)
        {
            errors[$"[{index}]"] = [Detail];
            return;
        }

        foreach (var field in fields)
        {
            errors[$"[{index}].{field}"] = [Detail];
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Reason}: {Detail}";
}
