using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;
using StreamGrains.Kafka.Embedded;
using ErrorCode = Confluent.Kafka.ErrorCode;

namespace StreamGrains.Kafka.Tests.Embedded;

public sealed class EmbeddedKafkaClusterTests : IDisposable
{
    private readonly EmbeddedKafkaCluster _cluster = EmbeddedKafkaCluster.Start(brokerCount: 3);

    public void Dispose() => _cluster.Dispose();

    [Fact]
    public void Reports_bootstrap_servers_of_every_broker()
    {
        var servers = _cluster.BootstrapServers.Split(',');
        Assert.Equal(3, servers.Length);
        Assert.All(servers, s => Assert.StartsWith("127.0.0.1:", s, StringComparison.Ordinal));

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _cluster.BootstrapServers }).Build();
        _cluster.CreateTopic("described", 6);
        var metadata = admin.GetMetadata("described", TimeSpan.FromSeconds(10));
        Assert.Equal(3, metadata.Brokers.Count);
        Assert.Equal(6, Assert.Single(metadata.Topics).Partitions.Count);
    }

    [Fact]
    public async Task Produces_and_consumes_thousands_of_records_across_partitions()
    {
        const int partitions = 8;
        const int count = 5_000;
        _cluster.CreateTopic("orders", partitions);

        using (var producer = KafkaTestClients.Producer(_cluster.BootstrapServers))
        {
            for (var i = 0; i < count; i++)
            {
                producer.Produce("orders", new Message<string, string> { Key = $"key-{i % 100}", Value = $"{i}" });
            }

            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }

        var records = await KafkaTestClients.ConsumeAsync(_cluster.BootstrapServers, "orders", partitions, count, TimeSpan.FromSeconds(60));

        Assert.Equal(count, records.Count);
        Assert.Equal(count, records.Select(r => r.Message.Value).Distinct().Count());
        Assert.Equal(partitions, records.Select(r => r.Partition.Value).Distinct().Count());
        foreach (var byKey in records.GroupBy(r => r.Message.Key))
        {
            // One key, one partition, in the order produced.
            Assert.Single(byKey.Select(r => r.Partition.Value).Distinct());
            var values = byKey.OrderBy(r => r.Offset.Value).Select(r => int.Parse(r.Message.Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(values.Order().ToList(), values);
        }
    }

    [Fact]
    public async Task A_consumer_resumes_from_the_offsets_its_group_committed()
    {
        const int partitions = 4;
        const int count = 3_000;
        const string group = "resume-test";
        _cluster.CreateTopic("payments", partitions);
        using (var producer = KafkaTestClients.Producer(_cluster.BootstrapServers))
        {
            for (var i = 0; i < count; i++)
            {
                producer.Produce("payments", new Message<string, string> { Key = $"card-{i % 37}", Value = $"{i}" });
            }

            producer.Flush(TimeSpan.FromSeconds(30));
        }

        var seen = new List<string>();
        var committed = new Dictionary<int, long>();
        using (var first = KafkaTestClients.Consumer(_cluster.BootstrapServers, group))
        {
            first.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset("payments", p, Offset.Beginning)));
            var deadline = Stopwatch.StartNew();
            while (seen.Count < 1_000 && deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                var result = first.Consume(TimeSpan.FromMilliseconds(200));
                if (result is null)
                {
                    continue;
                }

                seen.Add(result.Message.Value);
                committed[result.Partition.Value] = result.Offset.Value + 1;
            }

            first.Commit(committed.Select(kv => new TopicPartitionOffset("payments", kv.Key, kv.Value)));
            first.Close();
        }

        Assert.Equal(1_000, seen.Count);
        using var second = KafkaTestClients.Consumer(_cluster.BootstrapServers, group);
        var stored = second.Committed(Enumerable.Range(0, partitions).Select(p => new TopicPartition("payments", p)), TimeSpan.FromSeconds(10));
        foreach (var (partition, offset) in committed)
        {
            Assert.Equal(offset, stored.Single(s => s.Partition.Value == partition).Offset.Value);
        }

        second.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset("payments", p, Offset.Stored)));
        var rest = await Task.Run(() => KafkaTestClients.Drain(second, count - seen.Count, TimeSpan.FromSeconds(60)));

        Assert.Equal(count - seen.Count, rest.Count);
        Assert.Empty(rest.Select(r => r.Message.Value).Intersect(seen));
        Assert.Equal(count, seen.Concat(rest.Select(r => r.Message.Value)).Distinct().Count());
    }

    [Fact]
    public async Task Produce_waits_while_the_broker_is_down_and_delivers_every_record_once_when_it_returns()
    {
        using var single = EmbeddedKafkaCluster.Start(brokerCount: 1);
        single.CreateTopic("clicks", 4);
        using var producer = KafkaTestClients.Producer(single.BootstrapServers);
        for (var i = 0; i < 200; i++)
        {
            await producer.ProduceAsync("clicks", new Message<string, string> { Key = $"user-{i % 10}", Value = $"before-{i}" });
        }

        single.SetBrokerDown(1);
        var pending = new ConcurrentBag<DeliveryResult<string, string>>();
        var failures = new ConcurrentBag<Error>();
        for (var i = 0; i < 500; i++)
        {
            producer.Produce("clicks", new Message<string, string> { Key = $"user-{i % 10}", Value = $"during-{i}" }, report =>
            {
                if (report.Error.IsError)
                {
                    failures.Add(report.Error);
                }
                else
                {
                    pending.Add(report);
                }
            });
        }

        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Empty(pending); // nothing can be acknowledged while the only broker is down
        Assert.Empty(failures); // and nothing is given up either: the records wait in the producer

        single.SetBrokerUp(1);
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
        Assert.Empty(failures);
        Assert.Equal(500, pending.Count);

        var records = await KafkaTestClients.ConsumeAsync(single.BootstrapServers, "clicks", 4, 700, TimeSpan.FromSeconds(60));
        Assert.Equal(700, records.Count);
        Assert.Equal(700, records.Select(r => r.Message.Value).Distinct().Count());
        Assert.Equal(500, records.Count(r => r.Message.Value.StartsWith("during-", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Injected_produce_errors_are_retried_without_duplicates()
    {
        _cluster.CreateTopic("retried", 1);
        using var producer = KafkaTestClients.Producer(_cluster.BootstrapServers);
        _cluster.PushRequestErrors(KafkaApiKey.Produce, ErrorCode.NotEnoughReplicas, ErrorCode.NotEnoughReplicas, ErrorCode.RequestTimedOut);

        for (var i = 0; i < 50; i++)
        {
            producer.Produce("retried", new Message<string, string> { Key = "k", Value = $"{i}" });
        }

        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        var records = await KafkaTestClients.ConsumeAsync(_cluster.BootstrapServers, "retried", 1, 50, TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"{i}"), records.OrderBy(r => r.Offset.Value).Select(r => r.Message.Value));
    }

    [Fact]
    public async Task Round_trip_delay_slows_every_response()
    {
        _cluster.CreateTopic("slow", 1);
        using var producer = KafkaTestClients.Producer(_cluster.BootstrapServers);
        await producer.ProduceAsync("slow", new Message<string, string> { Key = "k", Value = "warm-up" });

        _cluster.SetRoundTripTime(-1, TimeSpan.FromMilliseconds(400));
        var watch = Stopwatch.StartNew();
        await producer.ProduceAsync("slow", new Message<string, string> { Key = "k", Value = "delayed" });
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(350), $"produce took {watch.Elapsed.TotalMilliseconds} ms with a 400 ms round trip");

        _cluster.SetRoundTripTime(-1, TimeSpan.Zero);
    }

    [Fact]
    public void Rejects_invalid_arguments_with_clear_errors()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _cluster.CreateTopic("bad", 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => _cluster.SetBrokerDown(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => EmbeddedKafkaCluster.Start(0));
        Assert.Contains("librdkafka", Path.GetFileName(EmbeddedKafkaCluster.NativeLibraryPath), StringComparison.Ordinal);
    }

    [Fact]
    public void A_disposed_cluster_refuses_calls()
    {
        var cluster = EmbeddedKafkaCluster.Start();
        cluster.Dispose();
        cluster.Dispose();
        Assert.Throws<ObjectDisposedException>(() => cluster.CreateTopic("late", 1));
    }
}
