namespace StreamGrains.Silo.Tests.Infrastructure;

/// <summary>Waits for a condition that a running silo makes true sooner or later.</summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan timeout, string? what = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out after {timeout}{(what is null ? string.Empty : ": " + what)}");
            await Task.Delay(200);
        }
    }

    /// <summary>Calls <paramref name="get"/> until its value satisfies <paramref name="done"/>, and returns that value.</summary>
    public static async Task<T> ValueAsync<T>(Func<Task<T>> get, Func<T, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await get();
            if (done(value))
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, $"timed out after {timeout}; last value: {System.Text.Json.JsonSerializer.Serialize(value)}");
            await Task.Delay(200);
        }
    }
}
