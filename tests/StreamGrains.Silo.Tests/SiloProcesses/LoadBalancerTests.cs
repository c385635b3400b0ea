using System.Net;
using System.Text;
using System.Text.Json;
using StreamGrains.Silo.Tests.Infrastructure;
using Xunit.Abstractions;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary>
/// nginx with the project's configuration (<c>deploy/nginx/streamgrains.conf</c>) in front of three silo processes: any
/// silo answers any query, live decisions pass through unbuffered, and a stopped silo leaves the rotation.
/// </summary>
[Collection(ClusterTests.Name)]
public sealed class LoadBalancerTests(ITestOutputHelper output)
{
    private const string Nginx = "/usr/sbin/nginx";

    [Fact]
    public async Task Nginx_in_front_of_three_silos_spreads_queries_streams_decisions_and_drops_a_stopped_silo()
    {
        Assert.True(File.Exists(Nginx), $"{Nginx} is missing: install the Debian package nginx-light (.ci/run does)");
        await using var broker = ChildProcess.StartDll(RepositoryPaths.KafkaBrokerDll, ["--partitions", "4"], redirectInput: true);
        var bootstrap = await broker.WaitForLineAsync("bootstrap.servers=", TimeSpan.FromSeconds(60));
        string[] common = ["--kafka", bootstrap, "--demo", "false", "--StreamGrains:Rules:big:Kind", "Threshold", "--StreamGrains:Rules:big:Above", "900"];
        var silos = new List<SiloProcess> { SiloProcess.Start(common) };
        var directory = Directory.CreateTempSubdirectory("sg-nginx-");
        ChildProcess? nginx = null;
        try
        {
            await silos[0].WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
            silos.Add(SiloProcess.Start([.. common, "--primary-silo-port", $"{silos[0].SiloPort}"]));
            silos.Add(SiloProcess.Start([.. common, "--primary-silo-port", $"{silos[0].SiloPort}"]));
            await Task.WhenAll(silos.Skip(1).Select(s => s.WaitUntilReadyAsync(TimeSpan.FromSeconds(90))));

            // The deploy file, its three servers pointed at the local silos, inside a minimal main configuration.
            var port = FreePorts.Next();
            var site = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "deploy", "nginx", "streamgrains.conf"));
            for (var i = 0; i < 3; i++)
            {
                Assert.Contains($"server silo{i + 1}:8080", site, StringComparison.Ordinal);
                site = site.Replace($"server silo{i + 1}:8080", $"server 127.0.0.1:{silos[i].BaseAddress.Port}", StringComparison.Ordinal);
            }

            site = site.Replace("listen 80;", $"listen 127.0.0.1:{port};", StringComparison.Ordinal);
            await File.WriteAllTextAsync(Path.Combine(directory.FullName, "streamgrains.conf"), site);
            var temp = directory.FullName;
            await File.WriteAllTextAsync(Path.Combine(temp, "nginx.conf"), $$"""
                daemon off;
                worker_processes 1;
                pid {{temp}}/nginx.pid;
                error_log {{temp}}/error.log warn;
                events { worker_connections 256; }
                http {
                    access_log off;
                    client_body_temp_path {{temp}}/body;
                    proxy_temp_path {{temp}}/proxy;
                    fastcgi_temp_path {{temp}}/fastcgi;
                    uwsgi_temp_path {{temp}}/uwsgi;
                    scgi_temp_path {{temp}}/scgi;
                    include {{temp}}/streamgrains.conf;
                }
                """);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temp, (UnixFileMode)0b111_111_111); // workers may run as nobody
            }
            nginx = ChildProcess.StartProgram(Nginx, ["-p", temp, "-c", Path.Combine(temp, "nginx.conf")], temp);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
            await Eventually.TrueAsync(async () => await AnswersAsync(http), TimeSpan.FromSeconds(20), $"nginx answering ({nginx.Errors})");

            // Any silo answers any query: the answers come from all three.
            var answeredBy = new HashSet<string>();
            for (var i = 0; i < 12; i++)
            {
                answeredBy.Add((await InfoAsync(http)).GetProperty("siloAddress").GetString()!);
            }

            output.WriteLine($"answered by: {string.Join(", ", answeredBy)}");
            Assert.Equal(3, answeredBy.Count);

            // Live decisions through nginx, as they are made.
            using var streamCancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            using var streamResponse = await http.GetAsync(new Uri("/api/alerts/stream", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, streamCancel.Token);
            Assert.Equal(HttpStatusCode.OK, streamResponse.StatusCode);
            var reading = ReadDecisionAsync(await streamResponse.Content.ReadAsStreamAsync(streamCancel.Token), streamCancel.Token);
            await Task.Delay(500);
            var published = await http.PostAsync(
                new Uri("/api/events", UriKind.Relative),
                new StringContent("""{"id": "lb-1", "entity": "lb-card", "type": "payment", "ts": "2026-11-26T10:00:00Z", "value": 990}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Accepted, published.StatusCode);
            Assert.Contains("\"eventId\":\"lb-1\"", await reading, StringComparison.Ordinal);

            // The profile is there whichever silo answers.
            for (var i = 0; i < 6; i++)
            {
                await Eventually.TrueAsync(async () => (await http.GetAsync(new Uri("/api/profiles/lb-card", UriKind.Relative))).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(20));
            }

            // A silo stops: every request still succeeds, answered by the two left.
            var stopped = (await silos[2].GetInfoAsync()).GetProperty("siloAddress").GetString()!;
            await silos[2].Process.TerminateAsync(TimeSpan.FromSeconds(60));
            answeredBy.Clear();
            for (var i = 0; i < 12; i++)
            {
                answeredBy.Add((await InfoAsync(http)).GetProperty("siloAddress").GetString()!);
            }

            Assert.Equal(2, answeredBy.Count);
            Assert.DoesNotContain(stopped, answeredBy);
        }
        finally
        {
            nginx?.Kill();
            if (nginx is not null)
            {
                await nginx.DisposeAsync();
            }

            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }

            directory.Delete(recursive: true);
        }
    }

    private static async Task<bool> AnswersAsync(HttpClient http)
    {
        try
        {
            return (await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static async Task<JsonElement> InfoAsync(HttpClient http)
    {
        using var response = await http.GetAsync(new Uri("/api/info", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>The first <c>event: decision</c> of a server-sent event stream: its data line.</summary>
    private static async Task<string> ReadDecisionAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(stream);
        var decision = false;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line == "event: decision")
            {
                decision = true;
            }
            else if (decision && line.StartsWith("data: ", StringComparison.Ordinal))
            {
                return line["data: ".Length..];
            }
        }

        return string.Empty;
    }
}
