using Confluent.Kafka;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StreamGrains.Kafka.Diagnostics;
using StreamGrains.Kafka.Statistics;

namespace StreamGrains.Kafka.Tests.Statistics;

public sealed class KafkaPartitionHealthTests
{
    // The shape of librdkafka 2.16's statistics, trimmed: partition 1 led by broker 1.
    private static string Statistics(string leaderState, long high = 42, long next = 40, string fetchState = "active") => $$$$$$"""
        {"name":"c","type":"consumer","brokers":{
          "127.0.0.1:1/1":{"name":"127.0.0.1:1/1","nodeid":1,"state":"{{{{{{leaderState}}}}}}"},
          "127.0.0.1:2/2":{"name":"127.0.0.1:2/2","nodeid":2,"state":"UP"},
          "GroupCoordinator":{"name":"GroupCoordinator","nodeid":-1,"state":"UP"}},
         "topics":{"events":{"topic":"events","partitions":{
          "1":{"partition":1,"broker":1,"leader":1,"fetch_state":"{{{{{{fetchState}}}}}}","next_offset":{{{{{{next}}}}}},"hi_offset":{{{{{{high}}}}}},"lo_offset":0},
          "-1":{"partition":-1,"leader":-1,"fetch_state":"none","hi_offset":-1}}}}}
        """;

    [Fact]
    public void Statistics_say_whether_the_leader_is_up_and_where_the_high_watermark_is()
    {
        Assert.Equal((true, 42L, 40L), KafkaPartitionHealth.Parse(Statistics("UP"), "events", 1));
        Assert.Equal((false, 42L, 40L), KafkaPartitionHealth.Parse(Statistics("DOWN"), "events", 1));
        Assert.False(KafkaPartitionHealth.Parse(Statistics("UP", fetchState: "offset-query"), "events", 1)!.Value.Readable);
        Assert.False(KafkaPartitionHealth.Parse(Statistics("UP").Replace("\"127.0.0.1:1/1\":{\"name\":\"127.0.0.1:1/1\",\"nodeid\":1,\"state\":\"UP\"},", string.Empty, StringComparison.Ordinal), "events", 1)!.Value.Readable); // the leader left the broker list
        Assert.Null(KafkaPartitionHealth.Parse(Statistics("UP"), "events", 7));
        Assert.Null(KafkaPartitionHealth.Parse("not json", "events", 1));
    }

    [Fact]
    public void A_partition_becomes_unreadable_only_after_the_threshold_and_keeps_its_last_high_watermark()
    {
        var health = new KafkaPartitionHealth();
        var start = new DateTime(2026, 11, 26, 12, 0, 0, DateTimeKind.Utc);
        var threshold = TimeSpan.FromSeconds(10);
        health.Reset(start);
        Assert.Equal(KafkaPartitionHealth.Starting, health.State(start.AddSeconds(5), threshold));
        Assert.Equal(KafkaPartitionHealth.Unreadable, health.State(start.AddSeconds(11), threshold)); // never fetched

        health.Observe(Statistics("UP", high: 100), "events", 1, start.AddSeconds(12));
        Assert.Equal(KafkaPartitionHealth.Reading, health.State(start.AddSeconds(12), threshold));
        health.Observe(Statistics("DOWN", high: 500), "events", 1, start.AddSeconds(14));
        Assert.Equal(KafkaPartitionHealth.Reading, health.State(start.AddSeconds(20), threshold));
        Assert.Equal(KafkaPartitionHealth.Unreadable, health.State(start.AddSeconds(23), threshold));
        Assert.Equal((100L, start.AddSeconds(12)), health.HighWatermark); // what was seen while readable, aging
        health.Observe(Statistics("UP", high: 600), "events", 1, start.AddSeconds(30));
        Assert.Equal(KafkaPartitionHealth.Reading, health.State(start.AddSeconds(30), threshold));
        Assert.Equal(600, health.HighWatermark.Offset);
    }

    [Fact]
    public void A_log_scope_prints_as_its_fields_and_stays_structured()
    {
        var scope = new KafkaLogScope(new("topic", "events"), new("partition", 7), new("offset", null), new("consumerGroup", "streamgrains"));
        Assert.Equal("topic=events partition=7 consumerGroup=streamgrains", scope.ToString());
        Assert.Equal(["topic", "partition", "offset", "consumerGroup"], scope.Select(kv => kv.Key));
        Assert.Equal(7, scope[1].Value);
    }
}
