using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace StreamGrains.Silo.Tests.Infrastructure;

/// <summary>A StreamGrains silo running as its own process on free ports.</summary>
internal sealed class SiloProcess : IAsyncDisposable
{
    private SiloProcess(ChildProcess process, Uri baseAddress, int siloPort, int gatewayPort)
    {
        Process = process;
        BaseAddress = baseAddress;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        Http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public ChildProcess Process { get; }

    public Uri BaseAddress { get; }

    public int SiloPort { get; }

    public int GatewayPort { get; }

    public HttpClient Http { get; }

    /// <summary>Starts a silo; <paramref name="extraArguments"/> come after the port arguments and win over them.</summary>
    public static SiloProcess Start(params string[] extraArguments) => Start(environment: null, extraArguments);

    /// <summary>Starts a silo with extra environment variables.</summary>
    public static SiloProcess Start(IReadOnlyDictionary<string, string>? environment, params string[] extraArguments)
    {
        var httpPort = FreePorts.Next();
        var siloPort = FreePorts.Next();
        var gatewayPort = FreePorts.Next();
        var baseAddress = new Uri($"http://127.0.0.1:{httpPort}");
        string[] arguments = ["--urls", baseAddress.ToString().TrimEnd('/'), "--silo-port", $"{siloPort}", "--gateway-port", $"{gatewayPort}", .. extraArguments];
        return new SiloProcess(ChildProcess.StartDll(RepositoryPaths.SiloDll, arguments, environment: environment), baseAddress, siloPort, gatewayPort);
    }

    /// <summary>Waits until <c>/health/ready</c> answers 200.</summary>
    public async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        string last = "no answer";
        while (watch.Elapsed < timeout)
        {
            if (Process.HasExited)
            {
                throw new InvalidOperationException($"The silo exited with code {Process.ExitCode}.\n{Process.Output}\n{Process.Errors}");
            }

            try
            {
                using var response = await Http.GetAsync(new Uri("/health/ready", UriKind.Relative));
                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException ex)
            {
                last = ex.Message;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"The silo was not ready within {timeout}; last answer: {last}\n{Process.Output}\n{Process.Errors}");
    }

    public async Task<JsonElement> GetInfoAsync() =>
        await Http.GetFromJsonAsync<JsonElement>(new Uri("/api/info", UriKind.Relative));

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Process.DisposeAsync();
    }
}
