namespace StreamGrains.Api;

/// <summary>
/// What a query of the API answers: a value, or the problem that stands for it (invalid parameters, an unknown
/// aggregation, or an entity or key that is not there: a 404 titled <see cref="ApiProblem.UnknownKey"/> or
/// <see cref="ApiProblem.UnknownEntity"/>, which the SDK gives as null).
/// </summary>
/// <typeparam name="T">The answer's type.</typeparam>
/// <param name="Value">The answer, or null with a problem.</param>
/// <param name="Problem">Why there is no answer, or null with a value.</param>
[GenerateSerializer, Immutable, Alias("sg.api.answer`1")]
public sealed record ApiAnswer<T>([property: Id(0)] T? Value, [property: Id(1)] ApiProblem? Problem = null)
    where T : class
{
    /// <summary>Converts a value to its answer.</summary>
    /// <param name="value">The value.</param>
    public static implicit operator ApiAnswer<T>(T value) => new(value);

    /// <summary>Converts a problem to its answer.</summary>
    /// <param name="problem">The problem.</param>
    public static implicit operator ApiAnswer<T>(ApiProblem problem) => new(null, problem);
}
