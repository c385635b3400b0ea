using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using StreamGrains.Events;
using StreamGrains.Silo.Hosting;
using StreamGrains.Silo.Tests.Infrastructure;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary>
/// The public HTTP API through a silo process: publishing events, validation naming items and fields, the request size
/// limit, rate limits, API keys and their scopes, and the OpenAPI document.
/// </summary>
public sealed class ApiTests
{
    private const string ReaderKey = "reader-key-0123456789";
    private const string WriterKey = "writer-key-0123456789";
    private const string AdminKey = "admin-key-0123456789";

    [Fact]
    public async Task Posted_events_are_in_Kafka_when_the_answer_comes_and_an_invalid_item_names_its_index_and_field_and_publishes_nothing()
    {
        await using var silo = SiloProcess.Start("--demo", "false", "--partitions", "2");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var bootstrap = (await silo.GetInfoAsync()).GetProperty("kafka").GetProperty("bootstrapServers").GetString()!;

        // One event alone, then an array of three.
        using (var one = await PostAsync(silo.Http, """{"id": "h-0", "entity": "web-1", "type": "visit", "ts": "2026-11-26T10:00:00Z", "value": 1}"""))
        {
            Assert.Equal(HttpStatusCode.Accepted, one.StatusCode);
            Assert.Equal(1, JsonDocument.Parse(await one.Content.ReadAsStringAsync()).RootElement.GetProperty("accepted").GetInt32());
        }

        var array = "[" + string.Join(",", Enumerable.Range(1, 3).Select(i => $$$"""{"id": "h-{{{i}}}", "entity": "web-{{{i}}}", "type": "visit", "ts": "2026-11-26T10:00:0{{{i}}}Z", "attrs": {"page": "/p{{{i}}}"}}""")) + "]";
        using (var three = await PostAsync(silo.Http, array))
        {
            Assert.Equal(HttpStatusCode.Accepted, three.StatusCode);
            Assert.Equal(3, JsonDocument.Parse(await three.Content.ReadAsStringAsync()).RootElement.GetProperty("accepted").GetInt32());
        }

        // Acknowledged means there: read right after the answers, without waiting.
        var records = KafkaIo.ReadAll(bootstrap, "events", r => r.Count >= 4, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        Assert.Equal(["h-0", "h-1", "h-2", "h-3"], records.Select(r => StreamEventJson.Parse(r.Message.Value, r.Message.Key).Id).Order());
        Assert.All(records, r => Assert.Equal(StreamEventJson.Parse(r.Message.Value).Entity, r.Message.Key));

        // Three bad items among good ones: each named by index and field; nothing published.
        var bad = """
            [{"id": "b-0", "entity": "web-1", "type": "visit", "ts": "2026-11-26T10:00:00Z"},
             {"id": "b-1", "entity": "web-1", "type": "visit"},
             {"id": "b-2", "entity": "web-1", "type": "visit", "ts": "2026-11-26T10:00:00Z", "value": "high"},
             42]
            """;
        using (var refused = await PostAsync(silo.Http, bad))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            var errors = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
            Assert.Equal(["[1].ts", "[2].value", "[3]"], errors.EnumerateObject().Select(p => p.Name).Order());
        }

        using (var notJson = await PostAsync(silo.Http, "{\"entity\": "))
        {
            Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
            Assert.True(JsonDocument.Parse(await notJson.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").TryGetProperty("body", out _));
        }

        await Task.Delay(500);
        Assert.Equal(4, KafkaIo.ReadAll(bootstrap, "events", _ => true, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10)).Count);
    }

    [Fact]
    public async Task Too_large_bodies_get_413_and_too_many_requests_get_429_as_problem_json()
    {
        await using var silo = SiloProcess.Start(
            "--demo", "false", "--partitions", "2",
            "--StreamGrains:Api:MaxRequestBytes", "4096", "--StreamGrains:Api:MaxEventsPerRequest", "5",
            "--StreamGrains:Api:RateLimit:PermitLimit", "8", "--StreamGrains:Api:RateLimit:Window", "00:01:00");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));

        var big = "[" + string.Join(",", Enumerable.Range(0, 100).Select(i => $$"""{"entity": "e-{{i}}", "type": "visit", "ts": "2026-11-26T10:00:00Z"}""")) + "]";
        using (var tooLarge = await PostAsync(silo.Http, big))
        {
            await AssertProblemAsync(tooLarge, HttpStatusCode.RequestEntityTooLarge, "MaxRequestBytes");
        }

        // Without a Content-Length (chunked), the limit holds while reading.
        using (var chunked = new HttpRequestMessage(HttpMethod.Post, "/api/events") { Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big))) })
        {
            chunked.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            chunked.Headers.TransferEncodingChunked = true;
            using var response = await silo.Http.SendAsync(chunked);
            await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "MaxRequestBytes");
        }

        var six = "[" + string.Join(",", Enumerable.Range(0, 6).Select(i => $$"""{"entity": "e-{{i}}", "type": "visit", "ts": "2026-11-26T10:00:00Z"}""")) + "]";
        using (var tooMany = await PostAsync(silo.Http, six))
        {
            await AssertProblemAsync(tooMany, HttpStatusCode.BadRequest, "MaxEventsPerRequest");
        }

        // Three requests so far of the eight a minute: five more pass, the next is refused with a Retry-After.
        for (var i = 0; i < 5; i++)
        {
            using var ok = await silo.Http.GetAsync(new Uri("/api/stats", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using var limited = await silo.Http.GetAsync(new Uri("/api/stats", UriKind.Relative));
        await AssertProblemAsync(limited, HttpStatusCode.TooManyRequests, "RateLimit");
        Assert.NotNull(limited.Headers.RetryAfter);

        // Health stays outside the API's limit.
        using var health = await silo.Http.GetAsync(new Uri("/health/ready", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Theory]
    [InlineData("127.0.0.1", true)] // the test's own address: its X-Forwarded-For counts
    [InlineData("10.9.0.0/16", false)] // another network trusted, not loopback: the header counts for nothing
    [InlineData(null, false)] // none trusted
    public async Task Behind_a_trusted_load_balancer_each_forwarded_client_has_its_own_rate_limit_and_otherwise_the_header_counts_for_nothing(string? proxy, bool trusted)
    {
        string[] trust = proxy is null ? [] : ["--StreamGrains:Api:TrustedProxies:0", proxy];
        await using var silo = SiloProcess.Start(
            ["--demo", "false", "--partitions", "1", "--StreamGrains:Api:RateLimit:PermitLimit", "3", "--StreamGrains:Api:RateLimit:Window", "00:01:00", .. trust]);
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));

        async Task<HttpStatusCode> StatsAsync(string client)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/stats");
            request.Headers.Add("X-Forwarded-For", client);
            using var response = await silo.Http.SendAsync(request);
            return response.StatusCode;
        }

        // Three a minute per client: the first client uses its three, the fourth is refused.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await StatsAsync("203.0.113.1"));
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, await StatsAsync("203.0.113.1"));

        // Another client behind the same load balancer: its own three when the balancer is trusted; else it is the
        // same client (the header is anyone's to write) and refused.
        Assert.Equal(trusted ? HttpStatusCode.OK : HttpStatusCode.TooManyRequests, await StatsAsync("203.0.113.2"));
    }

    [Fact]
    public async Task Requests_with_a_wrong_key_count_against_the_rate_limit_of_their_address_and_keep_no_valid_key_out()
    {
        await using var silo = SiloProcess.Start(
            "--demo", "false", "--partitions", "1",
            "--StreamGrains:Api:Keys:reader:Sha256", ApiKeys.Sha256(ReaderKey), "--StreamGrains:Api:Keys:reader:Scopes:0", "read",
            "--StreamGrains:Api:RateLimit:PermitLimit", "3", "--StreamGrains:Api:RateLimit:Window", "00:01:00");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));

        async Task<HttpResponseMessage> StatsAsync(string key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/stats");
            request.Headers.Add("X-Api-Key", key);
            return await silo.Http.SendAsync(request);
        }

        // Guessing keys: three refusals a minute from one address, then 429 (before, every guess got its 401, unlimited).
        for (var i = 0; i < 3; i++)
        {
            using var guess = await StatsAsync($"guess-{i}-0123456789");
            Assert.Equal(HttpStatusCode.Unauthorized, guess.StatusCode);
        }

        using (var limited = await StatsAsync("guess-3-0123456789"))
        {
            await AssertProblemAsync(limited, HttpStatusCode.TooManyRequests, "RateLimit");
            Assert.NotNull(limited.Headers.RetryAfter);
        }

        // The dashboard checks keys too, within the same limit.
        using (var dashboard = new HttpRequestMessage(HttpMethod.Get, "/dashboard/"))
        {
            dashboard.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("ops:guess-4-0123456789")));
            using var response = await silo.Http.SendAsync(dashboard);
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        }

        // A valid key from the same address is limited as itself, not with the guesses.
        using var valid = await StatsAsync(ReaderKey);
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
    }

    [Fact]
    public async Task With_keys_configured_every_route_needs_a_key_with_its_scope()
    {
        await using var silo = SiloProcess.Start(
            "--demo", "false", "--partitions", "2",
            "--StreamGrains:Api:Keys:reader:Sha256", ApiKeys.Sha256(ReaderKey), "--StreamGrains:Api:Keys:reader:Scopes:0", "read",
            "--StreamGrains:Api:Keys:writer:Sha256", ApiKeys.Sha256(WriterKey), "--StreamGrains:Api:Keys:writer:Scopes:0", "write",
            "--StreamGrains:Api:Keys:ops:Sha256", ApiKeys.Sha256(AdminKey), "--StreamGrains:Api:Keys:ops:Scopes:0", "admin",
            "--StreamGrains:Telemetry:MetricsScope", "admin");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        Assert.Contains("API keys required: 3 configured", silo.Process.Output, StringComparison.Ordinal);
        const string Event = """{"entity": "k-1", "type": "visit", "ts": "2026-11-26T10:00:00Z"}""";

        // No key, an unknown key: 401.
        await AssertProblemAsync(await SendAsync(silo, HttpMethod.Get, "/api/stats", key: null), HttpStatusCode.Unauthorized, "X-Api-Key");
        await AssertProblemAsync(await SendAsync(silo, HttpMethod.Get, "/api/stats", key: "not-a-key"), HttpStatusCode.Unauthorized, "not one of");
        await AssertProblemAsync(await SendAsync(silo, HttpMethod.Post, "/api/events", key: null, Event), HttpStatusCode.Unauthorized, "X-Api-Key");

        // read reads (header or bearer), and may not write.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(silo, HttpMethod.Get, "/api/stats", ReaderKey)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(silo, HttpMethod.Get, "/api/info", ReaderKey, bearer: true)).StatusCode);
        await AssertProblemAsync(await SendAsync(silo, HttpMethod.Post, "/api/events", ReaderKey, Event), HttpStatusCode.Forbidden, "write");

        // write writes, and may not read; admin does both.
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(silo, HttpMethod.Post, "/api/events", WriterKey, Event)).StatusCode);
        await AssertProblemAsync(await SendAsync(silo, HttpMethod.Get, "/api/stats", WriterKey), HttpStatusCode.Forbidden, "read");
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(silo, HttpMethod.Get, "/api/stats", AdminKey)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(silo, HttpMethod.Post, "/api/events", AdminKey, Event)).StatusCode);

        // The dashboard needs admin; a browser is asked for it (Basic, the key as password).
        using (var anonymous = await SendAsync(silo, HttpMethod.Get, "/dashboard/", key: null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Contains(anonymous.Headers.WwwAuthenticate, h => h.Scheme == "Basic");
        }

        await AssertProblemAsync(await SendAsync(silo, HttpMethod.Get, "/dashboard/", ReaderKey), HttpStatusCode.Forbidden, "admin");
        using (var basic = new HttpRequestMessage(HttpMethod.Get, "/dashboard/"))
        {
            basic.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"ops:{AdminKey}")));
            using var response = await silo.Http.SendAsync(basic);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Health is open; metrics need the scope Telemetry:MetricsScope names; the API reference is open.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(silo, HttpMethod.Get, "/health/ready", key: null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(silo, HttpMethod.Get, "/metrics", key: null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(silo, HttpMethod.Get, "/metrics", ReaderKey)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(silo, HttpMethod.Get, "/metrics", AdminKey)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(silo, HttpMethod.Get, "/openapi/v1.json", key: null)).StatusCode);
    }

    [Fact]
    public async Task Keys_that_are_not_hashes_or_have_no_valid_scope_stop_start_up_naming_the_setting()
    {
        await using var silo = SiloProcess.Start(
            "--demo", "false",
            "--StreamGrains:Api:Keys:app:Sha256", "secret-in-clear", "--StreamGrains:Api:Keys:app:Scopes:0", "superuser");
        Assert.NotEqual(0, await silo.Process.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var output = silo.Process.Output + silo.Process.Errors;
        Assert.Contains("StreamGrains:Api:Keys:app:Sha256", output, StringComparison.Ordinal);
        Assert.Contains("StreamGrains:Api:Keys:app:Scopes: 'superuser' is not a scope", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_OpenAPI_document_lists_every_api_route_and_the_reference_page_loads()
    {
        // Every /api route the silo maps, read from the application itself (not started).
        var app = StreamGrainsSilo.Build(["--demo", "false", "--partitions", "1"]);
        List<(string Path, string Method)> routes;
        await using (app)
        {
            routes = ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
                .Where(e => e.RoutePattern.RawText?.StartsWith("/api/", StringComparison.Ordinal) == true)
                .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => (e.RoutePattern.RawText!, m.ToLowerInvariant())))
                .ToList();
        }

        Assert.Contains(("/api/events", "post"), routes);
        Assert.True(routes.Count >= 10, $"only {routes.Count} routes found");

        await using var silo = SiloProcess.Start("--demo", "false", "--partitions", "1");
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var paths = JsonDocument.Parse(await silo.Http.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative))).RootElement.GetProperty("paths");
        foreach (var (path, method) in routes)
        {
            Assert.True(paths.TryGetProperty(path, out var operations) && operations.TryGetProperty(method, out _), $"{method.ToUpperInvariant()} {path} is not in the OpenAPI document");
        }

        var page = await silo.Http.GetStringAsync(new Uri("/api-docs/", UriKind.Relative));
        Assert.Contains("openapi/v1.json", page, StringComparison.Ordinal);
        using var script = await silo.Http.GetAsync(new Uri("/api-docs/scalar.js", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, script.StatusCode); // served by the silo: no CDN needed
    }


    private static async Task<HttpResponseMessage> PostAsync(HttpClient http, string json) =>
        await http.PostAsync(new Uri("/api/events", UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"));

    private static async Task<HttpResponseMessage> SendAsync(SiloProcess silo, HttpMethod method, string path, string? key, string? json = null, bool bearer = false)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        if (key is not null && bearer)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        else if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        return await silo.Http.SendAsync(request);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detailContains)
    {
        using (response)
        {
            Assert.Equal(status, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal((int)status, body.GetProperty("status").GetInt32());
            Assert.Contains(detailContains, body.GetRawText(), StringComparison.Ordinal);
        }
    }
}
