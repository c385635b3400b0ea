using StreamGrains.Api;

namespace StreamGrains.Silo.Api;

/// <summary>How the HTTP endpoints answer an <see cref="ApiAnswer{T}"/>: the value as 200 JSON, a problem as problem+json.</summary>
internal static class ApiResults
{
    public static IResult ToResult<T>(this ApiAnswer<T> answer)
        where T : class =>
        answer.Problem is { } problem ? problem.ToResult() : Results.Ok(answer.Value);

    public static IResult ToResult(this ApiProblem problem) =>
        problem.Errors is { Count: > 0 } errors
            ? Results.ValidationProblem(errors, detail: problem.Detail, title: problem.Title, statusCode: problem.Status)
            : Results.Problem(statusCode: problem.Status, title: problem.Title, detail: problem.Detail);
}
