using System.Net;
using System.Text.Json;
using Confluent.Kafka;
using StreamGrains.Events;

namespace StreamGrains.Silo.Tests.SiloProcesses;

/// <summary>The silo as a newcomer runs it: a real process with no configuration but its ports.</summary>
public sealed class EmbeddedDefaultsTests(EmbeddedSiloFixture fixture) : IClassFixture<EmbeddedSiloFixture>
{
    [Fact]
    public async Task Health_answers_live_and_ready()
    {
        using var live = await fixture.Silo.Http.GetAsync(new Uri("/health/live", UriKind.Relative));
        using var ready = await fixture.Silo.Http.GetAsync(new Uri("/health/ready", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("application/json", ready.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", body.RootElement.GetProperty("status").GetString());
        Assert.Equal("Healthy", body.RootElement.GetProperty("checks").GetProperty("kafka-partitions").GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("/health/ready")]
    [InlineData("/health/live")]
    [InlineData("/metrics")]
    public async Task Health_and_metrics_answer_reads_only(string path)
    {
        using var delete = await fixture.Silo.Http.DeleteAsync(new Uri(path, UriKind.Relative));
        using var post = await fixture.Silo.Http.PostAsync(new Uri(path, UriKind.Relative), new StringContent(string.Empty));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, delete.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
    }

    [Fact]
    public void The_console_on_start_has_no_warning_and_log_scopes_print_as_their_fields()
    {
        var output = fixture.Silo.Process.Output;
        Assert.DoesNotContain("System.Collections.Generic", output, StringComparison.Ordinal);
        var warnings = output.Split('\n').Where(l => l.Contains("warn:", StringComparison.Ordinal) || l.Contains("fail:", StringComparison.Ordinal) || l.Contains("crit:", StringComparison.Ordinal)).ToList();
        Assert.True(warnings.Count == 0, "warnings on a clean start:\n" + string.Join("\n", warnings));
        Assert.Matches(@"KafkaAdapterReceiver\[\d+\] => topic=events partition=\d+ consumerGroup=streamgrains Reading events\[\d+\]", output);
        // The banner writes the silo address as /api/info does.
        Assert.Contains($"silo 127.0.0.1:{fixture.Silo.SiloPort}@", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_dashboard_serves_its_page()
    {
        using var response = await fixture.Silo.Http.GetAsync(new Uri("/dashboard/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<title>Orleans Dashboard</title>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Info_describes_the_silo_and_the_embedded_broker()
    {
        var info = await fixture.Silo.GetInfoAsync();
        Assert.False(string.IsNullOrWhiteSpace(info.GetProperty("version").GetString()));
        Assert.StartsWith($"127.0.0.1:{fixture.Silo.SiloPort}@", info.GetProperty("siloAddress").GetString(), StringComparison.Ordinal);
        Assert.Equal("Memory", info.GetProperty("storage").GetString());
        var kafka = info.GetProperty("kafka");
        Assert.True(kafka.GetProperty("embedded").GetBoolean());
        Assert.StartsWith("127.0.0.1:", kafka.GetProperty("bootstrapServers").GetString(), StringComparison.Ordinal);
        var topics = kafka.GetProperty("topics").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!, t => t);
        Assert.Equal(8, topics["events"].GetProperty("partitions").GetInt32());
        Assert.Equal("dead-letter", topics["events.dlq"].GetProperty("role").GetString());
    }

    [Fact]
    public async Task A_plain_kafka_client_produces_to_the_bootstrap_address_that_info_names()
    {
        var bootstrap = (await fixture.Silo.GetInfoAsync()).GetProperty("kafka").GetProperty("bootstrapServers").GetString()!;
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = bootstrap }).Build();

        var result = await producer.ProduceAsync("events", new Message<string, string>
        {
            Key = "card-test",
            Value = """{"entity":"card-test","type":"payment","ts":"2026-11-24T10:00:00Z","value":1}""",
        });

        Assert.Equal(PersistenceStatus.Persisted, result.Status);
        Assert.True(result.Offset.Value >= 0);
    }

    [Fact]
    public async Task Demo_traffic_flows_into_the_input_topic_and_keeps_the_contract()
    {
        var bootstrap = (await fixture.Silo.GetInfoAsync()).GetProperty("kafka").GetProperty("bootstrapServers").GetString()!;
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "demo-check",
            EnableAutoCommit = false,
        }).Build();
        consumer.Assign(Enumerable.Range(0, 8).Select(p => new TopicPartitionOffset("events", p, Offset.Beginning)));

        var events = await Task.Run(() =>
        {
            var found = new List<StreamEvent>();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (found.Count < 200 && DateTime.UtcNow < deadline)
            {
                var record = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (record?.Message?.Value is { } value && record.Message.Key?.StartsWith("card-test", StringComparison.Ordinal) != true)
                {
                    found.Add(StreamEventJson.Parse(value, record.Message.Key));
                }
            }

            return found;
        });

        Assert.Equal(200, events.Count);
        Assert.Contains(events, e => e.Type == "payment" && e.Entity.StartsWith("card-", StringComparison.Ordinal) && e.Value > 0);
        Assert.Contains(events, e => e.Type == "click" && e.Entity.StartsWith("user-", StringComparison.Ordinal));
        Assert.Equal(events.Count, events.Select(e => e.Id).Distinct().Count());
        Assert.True(events.Select(e => e.Entity).Distinct().Count() > 50, "demo events should be spread over many entities");
    }

    [Fact]
    public async Task The_event_archive_is_off_with_memory_storage()
    {
        using var response = await fixture.Silo.Http.GetAsync(new Uri("/api/events?entity=card-1", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("The event archive is off", body.RootElement.GetProperty("title").GetString());
    }

    [Fact]
    public async Task Unknown_api_routes_get_a_problem_details_body()
    {
        using var response = await fixture.Silo.Http.GetAsync(new Uri("/api/nothing-here", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(404, body.RootElement.GetProperty("status").GetInt32());
    }
}
