using StreamGrains.Silo.Tests.Infrastructure;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary>One silo process on embedded defaults (embedded broker, demo traffic on), shared by a test class.</summary>
public sealed class EmbeddedSiloFixture : IAsyncLifetime
{
    internal SiloProcess Silo { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Silo = SiloProcess.Start();
        await Silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
    }

    public async Task DisposeAsync() => await Silo.DisposeAsync();
}
