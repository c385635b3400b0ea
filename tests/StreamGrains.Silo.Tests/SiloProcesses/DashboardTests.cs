using System.Text;
using Microsoft.Playwright;
using StreamGrains.Silo.Tests.Infrastructure;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary>The Orleans dashboard in a real browser (headless Chromium, driven by Playwright): it shows the live silos, and with keys only to an admin.</summary>
public sealed class DashboardTests
{
    private const string AdminKey = "dashboard-admin-0123456789";
    private const string ReaderKey = "dashboard-reader-0123456789";

    [Fact]
    public async Task The_dashboard_loads_in_a_browser_and_shows_both_live_silos()
    {
        await using var first = SiloProcess.Start("--demo", "false", "--partitions", "2");
        await first.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var bootstrap = (await first.GetInfoAsync()).GetProperty("kafka").GetProperty("bootstrapServers").GetString()!;
        await using var second = SiloProcess.Start("--kafka", bootstrap, "--demo", "false", "--primary-silo-port", $"{first.SiloPort}");
        await second.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var addresses = new[] { first, second }.Select(s => s.SiloPort).ToList();

        await using var chromium = await HeadlessChromium.LaunchAsync();
        var page = await chromium.Browser.NewPageAsync();
        var response = await page.GotoAsync(new Uri(first.BaseAddress, "/dashboard/#/silos").ToString());
        Assert.Equal(200, response!.Status);

        // The dashboard's own scripts fill its silo page from the cluster: both silos, by address, and their count.
        foreach (var port in addresses)
        {
            await page.GetByText($":{port}@", new PageGetByTextOptions { Exact = false }).First.WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
        }

        var text = await page.InnerTextAsync("body");
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(text, @"Active Silos\s*2\b", System.Text.RegularExpressions.RegexOptions.IgnoreCase), text);
    }

    [Fact]
    public async Task With_keys_the_dashboard_refuses_a_browser_without_the_admin_key()
    {
        await using var silo = SiloProcess.Start(
            "--demo", "false", "--partitions", "2",
            "--StreamGrains:Api:Keys:ops:Sha256", ApiKeys.Sha256(AdminKey), "--StreamGrains:Api:Keys:ops:Scopes:0", "admin",
            "--StreamGrains:Api:Keys:app:Sha256", ApiKeys.Sha256(ReaderKey), "--StreamGrains:Api:Keys:app:Scopes:0", "read");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var url = new Uri(silo.BaseAddress, "/dashboard/#/silos").ToString();
        await using var chromium = await HeadlessChromium.LaunchAsync();
        var browser = chromium.Browser;

        // No credentials: 401 with a Basic challenge, which a headless browser with nothing to answer gives up on.
        var anonymous = await browser.NewPageAsync();
        var answers = new List<IResponse>();
        anonymous.Response += (_, r) => answers.Add(r);
        var navigation = await Record.ExceptionAsync(() => anonymous.GotoAsync(url));
        var refused = Assert.Single(answers, r => r.Url.Contains("/dashboard/", StringComparison.Ordinal));
        Assert.Equal(401, refused.Status);
        Assert.StartsWith("Basic", await refused.HeaderValueAsync("www-authenticate") ?? string.Empty, StringComparison.Ordinal);
        Assert.True(navigation is PlaywrightException || !(await anonymous.ContentAsync()).Contains("Active Silos", StringComparison.OrdinalIgnoreCase), "the dashboard showed without a key");

        // A key without admin: 403.
        var reader = await browser.NewContextAsync(new BrowserNewContextOptions { HttpCredentials = new HttpCredentials { Username = "app", Password = ReaderKey } });
        Assert.Equal(403, (await (await reader.NewPageAsync()).GotoAsync(url))!.Status);

        // The admin key: the dashboard, and its data calls, all let through.
        var admin = await browser.NewContextAsync(new BrowserNewContextOptions { HttpCredentials = new HttpCredentials { Username = "ops", Password = AdminKey } });
        var page = await admin.NewPageAsync();
        var failedCalls = new List<string>();
        page.Response += (_, r) =>
        {
            if (r.Status >= 400)
            {
                failedCalls.Add($"{r.Status} {r.Url}");
            }
        };
        Assert.Equal(200, (await page.GotoAsync(url))!.Status);
        await page.GetByText($":{silo.SiloPort}@", new PageGetByTextOptions { Exact = false }).First.WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
        Assert.Empty(failedCalls);
    }

}

/// <summary>Debian's Chromium, headless, driven by Playwright (which cannot download browsers here); disposes both.</summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    private const string Executable = "/usr/bin/chromium";
    private readonly IPlaywright _playwright;

    private HeadlessChromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    public static async Task<HeadlessChromium> LaunchAsync()
    {
        Assert.True(File.Exists(Executable), $"{Executable} is missing: install the Debian package chromium (.ci/run does)");
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Executable,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage"], // root in CI containers; small /dev/shm
        });
        return new HeadlessChromium(playwright, browser);
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }
}
