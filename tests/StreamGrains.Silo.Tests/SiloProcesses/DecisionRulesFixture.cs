using StreamGrains.Silo.Tests.Infrastructure;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary>One silo on the embedded broker (no demo) with a rule of each kind, each on its own event type, and context from a file.</summary>
public sealed class DecisionRulesFixture : IAsyncLifetime
{
    internal SiloProcess Silo { get; private set; } = null!;

    internal string Bootstrap { get; private set; } = null!;

    internal string ContextFile { get; } = Path.Combine(Path.GetTempPath(), $"context-{Guid.NewGuid():N}.jsonl");

    public async Task InitializeAsync()
    {
        await File.WriteAllLinesAsync(ContextFile, ["{\"entity\": \"u-ctx\", \"attrs\": {\"home\": \"NL\"}}"]);
        Silo = SiloProcess.Start(
            "--demo", "false", "--partitions", "4",
            "--StreamGrains:Context:Kind", "File", "--StreamGrains:Context:Path", ContextFile, "--StreamGrains:Context:RefreshInterval", "00:00:02",
            "--StreamGrains:Rules:big:Kind", "Threshold", "--StreamGrains:Rules:big:EventTypes:0", "payment", "--StreamGrains:Rules:big:Above", "500",
            "--StreamGrains:Rules:burst:Kind", "Velocity", "--StreamGrains:Rules:burst:EventTypes:0", "login", "--StreamGrains:Rules:burst:Count", "3",
            "--StreamGrains:Rules:burst:Within", "00:00:10", "--StreamGrains:Rules:burst:Action", "Flag",
            "--StreamGrains:Rules:odd:Kind", "Deviation", "--StreamGrains:Rules:odd:EventTypes:0", "reading", "--StreamGrains:Rules:odd:Sigmas", "3",
            "--StreamGrains:Rules:odd:MinEvents", "5",
            "--StreamGrains:Rules:newdev:Kind", "NewValue", "--StreamGrains:Rules:newdev:EventTypes:0", "session", "--StreamGrains:Rules:newdev:Attribute", "device",
            "--StreamGrains:Rules:abroad:Kind", "ContextMismatch", "--StreamGrains:Rules:abroad:EventTypes:0", "purchase", "--StreamGrains:Rules:abroad:Attribute", "country",
            "--StreamGrains:Rules:abroad:ContextAttribute", "home", "--StreamGrains:Rules:abroad:Action", "Enrich",
            "--StreamGrains:Rules:drop:Kind", "Expression", "--StreamGrains:Rules:drop:EventTypes:0", "click", "--StreamGrains:Rules:drop:Expression", "attrs[\"bot\"] == \"true\"",
            "--StreamGrains:Rules:drop:Action", "Filter");
        await Silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        Bootstrap = (await Silo.GetInfoAsync()).GetProperty("kafka").GetProperty("bootstrapServers").GetString()!;
    }

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        File.Delete(ContextFile);
    }
}
