using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using OpenTelemetry;
using OpenTelemetry.Trace;
using StreamGrains.Events;
using StreamGrains.Integration.Tests.Infrastructure;
using StreamGrains.Kafka.Statistics;
using StreamGrains.Kafka.Tracing;

namespace StreamGrains.Integration.Tests;

public sealed class ObservabilityTests
{
    [Fact]
    public async Task A_records_trace_continues_through_receipt_delivery_the_grains_calls_and_what_it_publishes()
    {
        var spans = new List<Activity>();
        // Roots are never sampled here: only the record that brings its own trace context may produce spans.
        using var tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(KafkaTracing.ActivitySourceName, "Microsoft.Orleans.Application")
            .SetSampler(new ParentBasedSampler(new AlwaysOffSampler()))
            .AddInMemoryExporter(spans)
            .Build();
        await using var test = KafkaTestCluster.StartBroker();
        await test.StartSilosAsync(silos: 2);

        var traceId = ActivityTraceId.CreateRandom();
        var parent = $"00-{traceId.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01";
        using (var producer = test.Producer())
        {
            for (var i = 0; i < 20; i++)
            {
                producer.Produce(KafkaTestCluster.Namespace, KafkaTestCluster.Event($"untraced-{i}", i));
            }

            var traced = new StreamEvent { Id = "traced-1", Entity = "card-traced", Type = "forward", Timestamp = DateTimeOffset.UtcNow, Value = 1 };
            await producer.ProduceAsync(KafkaTestCluster.Namespace, new Message<string, byte[]>
            {
                Key = traced.Entity,
                Value = StreamEventJson.Serialize(traced),
                Headers = new Headers { { "traceparent", Encoding.ASCII.GetBytes(parent) } },
            });
        }

        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig { BootstrapServers = test.Kafka.BootstrapServers, GroupId = "trace-reader", EnableAutoCommit = false }).Build();
        consumer.Assign(Enumerable.Range(0, KafkaTestCluster.Partitions).Select(p => new TopicPartitionOffset(KafkaTestCluster.PublishedTopic, p, Offset.Beginning)));
        ConsumeResult<string, byte[]>? forwarded = null;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (forwarded is null && DateTime.UtcNow < deadline)
        {
            forwarded = consumer.Consume(TimeSpan.FromMilliseconds(200));
        }

        Assert.NotNull(forwarded);
        Assert.Equal("card-traced", forwarded.Message.Key);
        Assert.True(forwarded.Message.Headers.TryGetLastBytes("traceparent", out var onward), "the published record carries a traceparent header");
        Assert.True(ActivityContext.TryParse(Encoding.ASCII.GetString(onward), null, out var onwardContext));
        Assert.Equal(traceId, onwardContext.TraceId);

        tracing.ForceFlush();
        await KafkaTestCluster.WaitUntilAsync(() => spans.Count >= 3, TimeSpan.FromSeconds(10), () => $"{spans.Count} spans exported");
        var names = spans.Select(s => s.DisplayName).ToList();
        Assert.Contains($"receive {KafkaTestCluster.Namespace}", names);
        Assert.Contains($"deliver {KafkaTestCluster.Namespace}", names);
        Assert.Contains($"publish {KafkaTestCluster.PublishedTopic}", names);
        Assert.All(spans, span => Assert.Equal(traceId, span.TraceId)); // the 20 untraced records started no trace
        Assert.Contains(spans, s => s.DisplayName == "forward"); // the grain's work on the event...
        Assert.Contains(spans, s => s.DisplayName == "IEchoGrain/Echo"); // ...and its call to another grain stay in the trace
        var receive = spans.Single(s => s.DisplayName.StartsWith("receive", StringComparison.Ordinal));
        var deliver = spans.Single(s => s.DisplayName.StartsWith("deliver", StringComparison.Ordinal));
        Assert.Equal(receive.SpanId, deliver.ParentSpanId);
        Assert.Equal(onwardContext.SpanId, spans.Single(s => s.DisplayName.StartsWith("publish", StringComparison.Ordinal)).SpanId);
        Assert.Equal(spans.Single(s => s.DisplayName == "forward").SpanId, spans.Single(s => s.DisplayName.StartsWith("publish", StringComparison.Ordinal)).ParentSpanId);
    }

    [Fact]
    public async Task Every_partition_has_an_owner_and_after_a_silo_stops_the_survivor_owns_them_all()
    {
        await using var test = KafkaTestCluster.StartBroker();
        var cluster = await test.StartSilosAsync(silos: 2);
        var directory = cluster.Client.GetGrain<IKafkaPartitionDirectoryGrain>(KafkaTestCluster.ProviderName);

        IReadOnlyList<KafkaPartitionStatus> partitions = [];
        await KafkaTestCluster.WaitUntilAsync(
            () => (partitions = directory.GetPartitions().GetAwaiter().GetResult()).Count == KafkaTestCluster.Partitions,
            TimeSpan.FromSeconds(30),
            () => $"{partitions.Count} partitions owned");
        Assert.All(partitions, p => Assert.False(string.IsNullOrEmpty(p.Owner)));
        Assert.Equal(Enumerable.Range(0, KafkaTestCluster.Partitions), partitions.Select(p => p.Partition).Order());

        var survivor = cluster.Primary!.SiloAddress.ToParsableString();
        await cluster.StopSiloAsync(cluster.SecondarySilos[0]);

        await KafkaTestCluster.WaitUntilAsync(
            () =>
            {
                partitions = directory.GetPartitions().GetAwaiter().GetResult();
                return partitions.Count == KafkaTestCluster.Partitions && partitions.All(p => p.Owner == survivor);
            },
            TimeSpan.FromSeconds(60),
            () => $"owners: {string.Join(", ", partitions.Select(p => $"{p.Partition}={p.Owner}"))}");
    }

    [Fact]
    public async Task A_partition_that_moves_to_a_new_silo_shows_its_new_owner_in_the_directory_within_a_second()
    {
        await using var test = KafkaTestCluster.StartBroker();
        var cluster = await test.StartSilosAsync(silos: 1);
        var directory = cluster.Client.GetGrain<IKafkaPartitionDirectoryGrain>(KafkaTestCluster.ProviderName);
        var first = cluster.Primary!.SiloAddress.ToParsableString();
        await KafkaTestCluster.WaitUntilAsync(
            () => test.PartitionOwners().Count == KafkaTestCluster.Partitions,
            TimeSpan.FromSeconds(30),
            () => $"{test.PartitionOwners().Count} partitions owned");

        var joined = await cluster.StartAdditionalSiloAsync();
        var newcomer = joined.SiloAddress.ToParsableString();

        // From the moment the newcomer reads a partition (its own provider says so), the directory must say so within a second.
        var seenLocally = new Dictionary<int, DateTime>();
        var seenInDirectory = new Dictionary<int, DateTime>();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(60) && (seenLocally.Count == 0 || seenInDirectory.Count < seenLocally.Count))
        {
            var now = DateTime.UtcNow;
            foreach (var (partition, owner) in test.PartitionOwners())
            {
                if (owner == newcomer)
                {
                    seenLocally.TryAdd(partition, now);
                }
            }

            foreach (var status in await directory.GetPartitions())
            {
                if (status.Owner == newcomer)
                {
                    seenInDirectory.TryAdd(status.Partition, DateTime.UtcNow);
                }
            }

            await Task.Delay(50);
        }

        Assert.NotEmpty(seenLocally); // the consistent ring gave the newcomer some partitions
        Assert.Equal(seenLocally.Keys.Order(), seenInDirectory.Keys.Order());
        Assert.All(seenLocally, local => Assert.True(
            seenInDirectory[local.Key] - local.Value < TimeSpan.FromSeconds(1),
            $"partition {local.Key}: read by {newcomer} at {local.Value:HH:mm:ss.fff}, in the directory at {seenInDirectory[local.Key]:HH:mm:ss.fff}"));
        Assert.DoesNotContain(await directory.GetPartitions(), p => p.Owner != first && p.Owner != newcomer);
    }
}
