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
}
