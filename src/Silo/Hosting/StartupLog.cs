namespace StreamGrains.Silo.Hosting;

/// <summary>Console logging for what runs before the host exists (schema migrations).</summary>
internal static class StartupLog
{
    public static ILoggerFactory Factory { get; } = LoggerFactory.Create(logging => logging
        .SetMinimumLevel(LogLevel.Information)
        .AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss ";
            console.UseUtcTimestamp = true;
        }));
}
