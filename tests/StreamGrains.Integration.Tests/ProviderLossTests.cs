using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Runtime;
using StreamGrains.Events;
using StreamGrains.Integration.Tests.Grains;
using StreamGrains.Integration.Tests.Infrastructure;
using StreamGrains.Kafka;
using StreamGrains.Kafka.Checkpointing;
using StreamGrains.Kafka.Providers;
using StreamGrains.Kafka.Statistics;
using Xunit.Abstractions;

namespace StreamGrains.Integration.Tests;

/// <summary>
/// The ways the provider could skip events and commit their offsets anyway, each made to happen: a handover to an owner
/// that packs containers differently, a consumer that keeps failing, a read dropped at shutdown, and crashes. Every test
/// asserts the exact set of delivered offsets; crashes freeze commits at the moment of the kill, so what comes back is
/// what a real crash leaves (periodic commits only, no final one).
/// </summary>
public sealed class ProviderLossTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_new_owner_that_packs_a_keys_backlog_into_one_container_delivers_every_event_to_a_grain_that_stayed_active()
    {
        await using var test = KafkaTestCluster.StartBroker();
        var cluster = await test.StartSilosAsync(silos: 2);
        TestCommitGate.FreezeAll(); // the new owner reads the whole partition again, in larger containers
        using var producer = test.Producer();
        var produced = new ProducedLog();
        var keys = Enumerable.Range(0, 48).Select(i => $"card-{i:D2}").ToList();

        // One event per key per read: each container holds one event.
        var sequence = 0;
        for (var round = 0; round < 3; round++)
        {
            foreach (var key in keys)
            {
                produced.Produce(producer, KafkaTestCluster.Event(key, sequence++));
            }

            producer.Flush(TimeSpan.FromSeconds(30));
            var expected = produced.Records.Count;
            await KafkaTestCluster.WaitUntilAsync(() => DeliveryLog.DistinctOffsets >= expected, TimeSpan.FromMinutes(1), () => $"{DeliveryLog.DistinctOffsets} of {expected} delivered in round {round}");
        }

        // Keys whose partition the victim reads while their grain lives on the survivor (the primary).
        var survivor = cluster.Primary!;
        var victim = cluster.Silos.First(s => s != survivor);
        var owners = test.PartitionOwners();
        var partitionOf = produced.Records.GroupBy(r => r.Key).ToDictionary(g => g.Key, g => g.First().Partition);
        var moving = new List<string>();
        foreach (var key in keys)
        {
            var where = await cluster.Client.GetGrain<IRecordingConsumerGrain>(key).Where();
            if (owners.GetValueOrDefault(partitionOf[key]) == victim.SiloAddress.ToParsableString() && where == survivor.SiloAddress.ToParsableString())
            {
                moving.Add(key);
            }
        }

        output.WriteLine($"{moving.Count} keys read by the victim with their grain on the survivor: {string.Join(", ", moving)}");
        Assert.True(moving.Count > 0, "no key is read by one silo and consumed on the other; the test cannot show a handover");

        // Events of those keys keep coming before, during and after the kill: the ones the victim read but had not
        // delivered yet come back from the survivor in one container with events the grain already has.
        using var producing = new CancellationTokenSource();
        var background = Task.Run(async () =>
        {
            while (!producing.IsCancellationRequested)
            {
                foreach (var key in moving)
                {
                    produced.Produce(producer, KafkaTestCluster.Event(key, Interlocked.Increment(ref sequence)));
                }

                await Task.Delay(5);
            }
        });
        await Task.Delay(TimeSpan.FromSeconds(1));
        await cluster.KillSiloAsync(victim);
        await Task.Delay(TimeSpan.FromSeconds(1));
        await producing.CancelAsync();
        await background;

        producer.Flush(TimeSpan.FromSeconds(30));
        var all = produced.Offsets;
        await KafkaTestCluster.WaitUntilAsync(
            () => all.IsSubsetOf(DeliveryLog.Deliveries.Select(d => (d.Partition, d.Offset))),
            TimeSpan.FromMinutes(1),
            () => $"missing after the handover: {string.Join(", ", all.Except(DeliveryLog.Deliveries.Select(d => (d.Partition, d.Offset))).Order().Take(20))}");
        Assert.Equal(all, DeliveryLog.Deliveries.Select(d => (d.Partition, d.Offset)).ToHashSet());
    }

    [Fact]
    public async Task A_batch_its_consumer_keeps_failing_goes_to_the_dead_letter_topic_before_its_offset_is_committed_and_the_key_goes_on()
    {
        const string key = "card-poisoned";
        await using var test = KafkaTestCluster.StartBroker();
        using var producer = test.Producer();
        var produced = new ProducedLog();

        // A backlog on one key, read in one container: a good event, the poison one, another good one.
        produced.Produce(producer, KafkaTestCluster.Event(key, 0));
        produced.Produce(producer, new Message<string, byte[]> { Key = key, Value = Poison(key, 1) });
        var third = KafkaTestCluster.Event(key, 2);
        produced.Produce(producer, third);
        produced.Produce(producer, KafkaTestCluster.Event("card-bystander", 3));
        producer.Flush(TimeSpan.FromSeconds(30));
        var container = produced.Records.Where(r => r.Key == key).Select(r => r.Offset).Order().ToList();
        var partition = produced.Records.First(r => r.Key == key).Partition;

        await test.StartSilosAsync(silos: 1, commitInterval: TimeSpan.FromMilliseconds(200), maxEventDeliveryTime: TimeSpan.FromSeconds(2));

        // The dead letters arrive, with the reason and the consumer's error.
        var dead = await ReadDeadLettersAsync(test, partition, container.Count, TimeSpan.FromSeconds(60));
        Assert.Equal(container, dead.Select(d => long.Parse(Header(d, "dlq.source.offset"), CultureInfo.InvariantCulture)));
        Assert.All(dead, d =>
        {
            Assert.Equal("delivery-failed", Header(d, "dlq.reason"));
            Assert.Contains($"cannot process event {key}#1", Header(d, "dlq.detail"), StringComparison.Ordinal);
            Assert.Equal(key, d.Message.Key);
        });
        Assert.Equal(third.Value, dead[2].Message.Value); // the original record, read back from Kafka
        Assert.Equal(string.Empty, Header(dead[2], "dlq.original"));
        Assert.Equal($"events/{key}", Header(dead[2], "dlq.stream"));

        // The key goes on: a later event of it arrives, and the partition's offset passes the dead-lettered batch.
        produced.Produce(producer, KafkaTestCluster.Event(key, 4));
        producer.Flush(TimeSpan.FromSeconds(30));
        var later = produced.Records.Single(r => r.Key == key && r.Offset > container[^1]);
        await KafkaTestCluster.WaitUntilAsync(() => DeliveryLog.Deliveries.Any(d => d.Offset == later.Offset && d.Partition == partition), TimeSpan.FromSeconds(60), () => "the key's next event never arrived");
        await KafkaTestCluster.WaitUntilAsync(() => test.CommittedOffsets()[partition] > later.Offset, TimeSpan.FromSeconds(30), () => $"committed {test.CommittedOffsets()[partition]}, expected past {later.Offset}");

        // Exactly: every record of the partition was either delivered or dead-lettered.
        var delivered = DeliveryLog.Deliveries.Where(d => d.Partition == partition).Select(d => d.Offset).ToHashSet();
        var handled = delivered.Union(container).ToHashSet();
        Assert.Equal(produced.Records.Where(r => r.Partition == partition).Select(r => r.Offset).ToHashSet(), handled);
        Assert.DoesNotContain(container[1], delivered);
    }

    [Fact]
    public void A_read_that_never_reached_the_cache_is_not_committed()
    {
        using var meters = new StreamGrains.Testing.TestMeterFactory();
        using var metrics = new KafkaStreamMetrics(meters);
        var tp = new TopicPartition("events", 0);
        var partition = new KafkaPartitionContext(tp, new KafkaCheckpointer(tp, [], metrics, NullLogger.Instance));
        var cache = new KafkaQueueCache(partition, new KafkaQueueCacheOptions(), metrics, TimeProvider.System, NullLogger.Instance);
        var stream = StreamId.Create("events", "a");

        // The receiver's order: the read position moves, then the agent adds the read's containers.
        partition.ReadUpTo = 4;
        cache.AddToCache([new KafkaBatchContainer(stream, 0, ["e0", "e1", "e2", "e3"], [0L, 1, 2, 3], 0) { ReadEnd = 4 }]);
        var cursor = cache.TryGetCacheCursor(stream, null).Cursor!;
        while (cursor.MoveNextWithResult().Kind == QueueCacheCursorMoveResultKind.Success)
        {
        }

        cache.UpdateDeliveryProgress(null, DateTime.UtcNow);
        Assert.Equal(4, partition.Checkpointer.DeliveredOffset);

        // The next read moved the position, and the agent stopped before its records reached the cache.
        partition.ReadUpTo = 10;
        cache.UpdateDeliveryProgress(null, DateTime.UtcNow);
        Assert.Equal(4, partition.Checkpointer.DeliveredOffset);
        cursor.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_silo_killed_mid_stream_loses_nothing_and_only_uncommitted_offsets_come_again(bool explicitSubscriptions)
    {
        await using var test = KafkaTestCluster.StartBroker();
        var cluster = await test.StartSilosAsync(silos: 3, explicitSubscriptions: explicitSubscriptions);
        using var producer = test.Producer();
        var produced = new ProducedLog();
        var sequence = 0;

        async Task ProduceAsync(int count)
        {
            for (var i = 0; i < count; i++, sequence++)
            {
                produced.Produce(producer, KafkaTestCluster.Event($"card-{sequence % 500:D3}", sequence));
                if (i % 1000 == 999)
                {
                    await Task.Delay(50); // a steady stream rather than one burst
                }
            }
        }

        await ProduceAsync(10_000);
        await KafkaTestCluster.WaitUntilAsync(() => DeliveryLog.DistinctOffsets >= 5_000, TimeSpan.FromMinutes(1), () => $"{DeliveryLog.DistinctOffsets} delivered before the kill");

        // A crash: no commit of the victim after this moment, not even a final one.
        TestCommitGate.FreezeAll();
        var victim = cluster.Silos.First(s => s != cluster.Primary);
        var killing = cluster.KillSiloAsync(victim);
        var producing = ProduceAsync(10_000);
        await killing;
        var committedAtKill = test.CommittedOffsets();
        var deliveredAtKill = DeliveryLog.Deliveries.Count;
        TestCommitGate.ThawAllBut(victim.SiloAddress);
        await producing;
        producer.Flush(TimeSpan.FromSeconds(30));

        AssertEveryOffsetArrives(produced, committedAtKill, deliveredAtKill, await WaitForAllAsync(produced));
    }

    [Fact]
    public async Task After_the_whole_cluster_is_killed_processing_resumes_at_the_committed_offsets_and_loses_nothing()
    {
        var commitInterval = TimeSpan.FromSeconds(1);
        await using var test = KafkaTestCluster.StartBroker();
        var cluster = await test.StartSilosAsync(silos: 2, commitInterval);
        using var producer = test.Producer();
        var produced = new ProducedLog();

        for (var i = 0; i < 8_000; i++)
        {
            produced.Produce(producer, KafkaTestCluster.Event($"user-{i % 300:D3}", i));
        }

        producer.Flush(TimeSpan.FromSeconds(30));
        await KafkaTestCluster.WaitUntilAsync(() => DeliveryLog.DistinctOffsets >= 4_000, TimeSpan.FromMinutes(1), () => $"{DeliveryLog.DistinctOffsets} delivered before the kill");

        TestCommitGate.FreezeAll();
        var killed = cluster.Silos.Select(s => s.SiloAddress).ToArray();
        foreach (var silo in cluster.Silos.ToList())
        {
            await cluster.KillSiloAsync(silo);
        }

        await test.StopSilosAsync();
        var committedAtKill = test.CommittedOffsets();
        var deliveredAtKill = DeliveryLog.Deliveries.Count;
        TestCommitGate.ThawAllBut(killed);

        await test.StartSilosAsync(silos: 2, commitInterval);
        for (var i = 8_000; i < 10_000; i++)
        {
            produced.Produce(producer, KafkaTestCluster.Event($"user-{i % 300:D3}", i));
        }

        producer.Flush(TimeSpan.FromSeconds(30));
        AssertEveryOffsetArrives(produced, committedAtKill, deliveredAtKill, await WaitForAllAsync(produced));
    }

    [Fact]
    public async Task After_a_crash_exactly_what_arrived_since_the_last_periodic_commit_comes_again()
    {
        var commitInterval = TimeSpan.FromSeconds(2);
        await using var test = KafkaTestCluster.StartBroker();
        var cluster = await test.StartSilosAsync(silos: 1, commitInterval);
        using var producer = test.Producer();
        var produced = new ProducedLog();

        // A steady 2,000 events/s; the silo crashes 3 s in, the events keep coming, and a new silo takes over.
        const int rate = 2_000;
        var sent = 0;
        async Task ProduceForAsync(TimeSpan duration)
        {
            for (var tick = 0; tick < duration.TotalMilliseconds / 100; tick++)
            {
                for (var i = 0; i < rate / 10; i++, sent++)
                {
                    produced.Produce(producer, KafkaTestCluster.Event($"dev-{sent % 200:D3}", sent));
                }

                await Task.Delay(100);
            }
        }

        await ProduceForAsync(TimeSpan.FromSeconds(3));
        TestCommitGate.FreezeAll();
        var victim = cluster.Primary!.SiloAddress;
        await cluster.KillSiloAsync(cluster.Primary!);
        await test.StopSilosAsync();
        var committedAtKill = test.CommittedOffsets();
        var deliveredBeforeKill = DeliveryLog.Deliveries.ToList();
        TestCommitGate.ThawAllBut(victim);

        await test.StartSilosAsync(silos: 1, commitInterval);
        await ProduceForAsync(TimeSpan.FromSeconds(1));
        producer.Flush(TimeSpan.FromSeconds(30));
        var deliveries = await WaitForAllAsync(produced);

        var again = AssertEveryOffsetArrives(produced, committedAtKill, deliveredBeforeKill.Count, deliveries);
        // Exactly the delivered records the last commit did not cover came again: no more, no fewer.
        var uncommitted = deliveredBeforeKill.Select(d => (d.Partition, d.Offset)).Where(d => d.Offset >= committedAtKill[d.Partition]).ToHashSet();
        Assert.True(uncommitted.Count > 0, "everything was committed before the crash: the test shows nothing");
        var redelivered = deliveries.Skip(deliveredBeforeKill.Count).Select(d => (d.Partition, d.Offset)).Where(uncommitted.Contains).ToHashSet();
        Assert.Equal(uncommitted, redelivered);
        Assert.True(again <= rate * (commitInterval.TotalSeconds + 1), $"{again} events re-delivered; the bound is {rate * (commitInterval.TotalSeconds + 1)} ({rate}/s over a {commitInterval.TotalSeconds} s commit interval plus a second)");
    }

    private static StreamEvent PoisonEvent(string key, int sequence) => new()
    {
        Id = $"{key}#{sequence}",
        Entity = key,
        Type = RecordingConsumerGrain.PoisonType,
        Timestamp = DateTimeOffset.UtcNow,
        Value = sequence,
    };

    private static byte[] Poison(string key, int sequence) => StreamEventJson.Serialize(PoisonEvent(key, sequence));

    private static async Task<List<Delivery>> WaitForAllAsync(ProducedLog produced)
    {
        Assert.Equal(0, produced.Failed);
        var all = produced.Offsets;
        await KafkaTestCluster.WaitUntilAsync(
            () => all.IsSubsetOf(DeliveryLog.Deliveries.Select(d => (d.Partition, d.Offset))),
            TimeSpan.FromMinutes(2),
            () => $"{all.Except(DeliveryLog.Deliveries.Select(d => (d.Partition, d.Offset))).Count()} of {all.Count} offsets missing, e.g. {string.Join(", ", all.Except(DeliveryLog.Deliveries.Select(d => (d.Partition, d.Offset))).Order().Take(10))}");
        return DeliveryLog.Deliveries.ToList();
    }

    /// <summary>
    /// Every produced offset was delivered, nothing else was; what was delivered before the kill and came again after it
    /// lies at or after its partition's committed offset at the kill. Returns how many came again.
    /// </summary>
    private int AssertEveryOffsetArrives(ProducedLog produced, Dictionary<int, long> committedAtKill, int deliveredAtKill, List<Delivery> deliveries)
    {
        Assert.Equal(produced.Offsets, deliveries.Select(d => (d.Partition, d.Offset)).ToHashSet());
        Assert.Equal(produced.Records.Count, deliveries.Select(d => d.EventId).Distinct().Count());
        var before = deliveries.Take(deliveredAtKill).Select(d => (d.Partition, d.Offset)).ToHashSet();
        var again = deliveries.Skip(deliveredAtKill).Where(d => before.Contains((d.Partition, d.Offset))).ToList();
        output.WriteLine($"{produced.Records.Count} produced, {deliveries.Count} deliveries, {again.Count} delivered again after the kill; committed at the kill: {string.Join(", ", committedAtKill.OrderBy(c => c.Key).Select(c => $"{c.Key}:{c.Value}"))}");
        var early = again.Where(d => d.Offset < committedAtKill[d.Partition]).ToList();
        Assert.True(early.Count == 0, $"{early.Count} committed offsets were delivered again, e.g. {string.Join(", ", early.Take(5).Select(d => $"{d.Partition}:{d.Offset}"))}");
        return again.Count;
    }

    private static async Task<List<ConsumeResult<string?, byte[]>>> ReadDeadLettersAsync(KafkaTestCluster test, int partition, int expected, TimeSpan timeout)
    {
        using var consumer = new ConsumerBuilder<string?, byte[]>(new ConsumerConfig { BootstrapServers = test.Kafka.BootstrapServers, GroupId = "dlq-reader", EnableAutoCommit = false }).Build();
        consumer.Assign(new TopicPartitionOffset(KafkaTestCluster.Namespace + ".dlq", partition, Offset.Beginning));
        var dead = new List<ConsumeResult<string?, byte[]>>();
        var deadline = DateTime.UtcNow + timeout;
        while (dead.Count < expected && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } record)
            {
                dead.Add(record);
            }

            await Task.Yield();
        }

        Assert.True(dead.Count == expected, $"{dead.Count} of {expected} dead letters arrived within {timeout}");
        return dead;
    }

    private static string Header(ConsumeResult<string?, byte[]> record, string name) =>
        record.Message.Headers.TryGetLastBytes(name, out var bytes) ? Encoding.UTF8.GetString(bytes) : string.Empty;
}
