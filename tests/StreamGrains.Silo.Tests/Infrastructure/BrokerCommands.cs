namespace StreamGrains.Silo.Tests.Infrastructure;

/// <summary>Fault-injection commands to a standalone broker process (its standard input), each waited for.</summary>
internal static class BrokerCommands
{
    /// <summary>The topics the standalone broker creates.</summary>
    public static readonly string[] Topics = ["events", "events.dlq", "decisions", "events.enriched", "aggregates", "sessions", "events.late"];

    /// <summary>Sends a command and waits for its <c>ok</c>.</summary>
    public static async Task CommandAsync(this ChildProcess broker, string command)
    {
        await broker.WriteLineAsync(command);
        await broker.WaitForLineAsync($"ok {command}", TimeSpan.FromSeconds(10));
    }

    /// <summary>Puts the leaders of every partition of every topic on the broker <paramref name="brokerOf"/> names for the topic.</summary>
    public static async Task PlaceLeadersAsync(this ChildProcess broker, int partitions, Func<string, int> brokerOf)
    {
        foreach (var topic in Topics)
        {
            for (var partition = 0; partition < partitions; partition++)
            {
                await broker.CommandAsync($"leader {topic} {partition} {brokerOf(topic)}");
            }
        }
    }
}
