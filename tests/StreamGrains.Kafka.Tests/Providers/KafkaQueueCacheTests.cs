using Confluent.Kafka;
using Orleans.Runtime;
using Orleans.Streams;
using Microsoft.Extensions.Logging.Abstractions;
using StreamGrains.Kafka.Checkpointing;
using StreamGrains.Kafka.Providers;
using StreamGrains.Kafka.Statistics;

namespace StreamGrains.Kafka.Tests.Providers;

public sealed class KafkaQueueCacheTests : IDisposable
{
    private readonly ManualTime _time = new();
    private readonly KafkaStreamMetrics _metrics = new(new TestMeterFactory());
    private readonly KafkaPartitionContext _partition;
    private readonly KafkaQueueCache _cache;

    public KafkaQueueCacheTests()
    {
        var tp = new TopicPartition("events", 3);
        _partition = new KafkaPartitionContext(tp, new KafkaCheckpointer(tp, [], _metrics, NullLogger.Instance));
        _cache = new KafkaQueueCache(_partition, new KafkaQueueCacheOptions { MaxRecords = 100, RewindWindow = TimeSpan.FromSeconds(30) }, _metrics, _time, NullLogger.Instance);
    }

    public void Dispose() => _metrics.Dispose();

    private static bool Next(IQueueCacheCursor cursor) => cursor.MoveNextWithResult().Kind == QueueCacheCursorMoveResultKind.Success;

    private static StreamId Stream(string key) => StreamId.Create("events", key);

    private static KafkaBatchContainer Batch(string key, params long[] offsets) =>
        new(Stream(key), 3, offsets.Select(o => (object)$"{key}@{o}").ToList(), offsets.ToList(), 0);

    /// <summary>What a receiver does: hand the cache the containers of one read that ended before <paramref name="readUpTo"/>.</summary>
    private void Read(long readUpTo, params KafkaBatchContainer[] batches)
    {
        _cache.AddToCache(batches);
        _partition.ReadUpTo = readUpTo;
    }

    private long Purge()
    {
        _cache.TryPurgeFromCache(out _);
        return _partition.Checkpointer.DeliveredOffset;
    }

    [Fact]
    public void Nothing_is_delivered_while_a_new_streams_pin_cursor_holds_it()
    {
        Read(4, Batch("a", 0, 2), Batch("b", 1, 3));
        using var pinA = _cache.GetCacheCursor(Stream("a"), new KafkaSequenceToken(3, 0));
        using var pinB = _cache.GetCacheCursor(Stream("b"), new KafkaSequenceToken(3, 1));

        Assert.Equal(0, Purge());
        Assert.Equal(4, _cache.UndeliveredRecords);
    }

    [Fact]
    public void The_checkpoint_advances_only_past_entries_every_cursor_has_left()
    {
        Read(6, Batch("a", 0, 2, 4), Batch("b", 1, 3), Batch("c", 5));
        var a = _cache.GetCacheCursor(Stream("a"), new KafkaSequenceToken(3, 0));
        var b = _cache.GetCacheCursor(Stream("b"), new KafkaSequenceToken(3, 1));
        var c = _cache.GetCacheCursor(Stream("c"), new KafkaSequenceToken(3, 5));

        Assert.True(Next(b));
        Assert.False(Next(b)); // b's only entry is delivered; a's (offset 0) is not
        Assert.Equal(0, Purge());

        Assert.True(Next(a));
        Assert.Equal([0L, 2, 4], ((KafkaBatchContainer)a.GetCurrent(out _)!).Offsets);
        Assert.Equal(0, Purge()); // a's entry is in flight

        Assert.False(Next(a)); // a's entry delivered; b's too; c's (offset 5) pending
        Assert.Equal(5, Purge());

        Assert.True(Next(c));
        Assert.False(Next(c));
        Assert.Equal(6, Purge()); // everything delivered: the read position
        Assert.Equal(0, _cache.UndeliveredRecords);
        a.Dispose();
        b.Dispose();
        c.Dispose();
    }

    [Fact]
    public void A_stream_without_consumers_does_not_hold_the_checkpoint_back()
    {
        Read(3, Batch("nobody", 0, 1), Batch("someone", 2));
        var pin = _cache.GetCacheCursor(Stream("nobody"), new KafkaSequenceToken(3, 0));
        pin.Dispose(); // registration found no subscriber
        using var someone = _cache.GetCacheCursor(Stream("someone"), new KafkaSequenceToken(3, 2));

        Assert.Equal(2, Purge());
        Assert.True(Next(someone));
        Assert.False(Next(someone));
        Assert.Equal(3, Purge());
    }

    [Fact]
    public void The_checkpoint_never_moves_back_when_a_rewinding_cursor_appears()
    {
        Read(2, Batch("a", 0, 1));
        var a = _cache.GetCacheCursor(Stream("a"), new KafkaSequenceToken(3, 0));
        Assert.True(Next(a));
        Assert.False(Next(a));
        Assert.Equal(2, Purge());

        using var rewind = _cache.GetCacheCursor(Stream("a"), new KafkaSequenceToken(3, 1));
        Assert.True(Next(rewind));
        Assert.Equal([1L], ((KafkaBatchContainer)rewind.GetCurrent(out _)!).Offsets); // from the token, mid-entry
        Assert.Equal(2, Purge());
        a.Dispose();
    }

    [Fact]
    public void A_drained_cursor_sees_entries_added_later()
    {
        using var a = _cache.GetCacheCursor(Stream("a"), null);
        Assert.False(Next(a));
        Read(1, Batch("a", 0));
        Assert.True(Next(a));
        Assert.Equal(0, ((KafkaBatchContainer)a.GetCurrent(out _)!).FirstOffset);
    }

    [Fact]
    public void Delivered_entries_stay_for_rewinds_then_go_and_older_tokens_miss()
    {
        Read(2, Batch("a", 0), Batch("a", 1));
        var a = _cache.GetCacheCursor(Stream("a"), new KafkaSequenceToken(3, 0));
        while (Next(a))
        {
        }

        Assert.False(_cache.TryPurgeFromCache(out _)); // delivered, but within the rewind window
        Assert.Equal(2, _cache.CachedRecords);

        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(_cache.TryPurgeFromCache(out var purged));
        Assert.Equal(2, purged.Count);
        Assert.Equal(0, _cache.CachedRecords);
        Assert.Throws<QueueCacheMissException>(() => _cache.GetCacheCursor(Stream("a"), new KafkaSequenceToken(3, 0)));
        a.Dispose();
    }

    [Fact]
    public void Undelivered_records_put_the_cache_under_pressure_and_cap_what_may_be_added()
    {
        using var slow = _cache.GetCacheCursor(Stream("slow"), new KafkaSequenceToken(3, 0));
        Read(95, Batch("slow", Enumerable.Range(0, 95).Select(i => (long)i).ToArray()));

        Assert.True(_cache.IsUnderPressure());
        Assert.Equal(5, _cache.GetMaxAddCount());

        while (Next(slow))
        {
        }

        Purge();
        Assert.False(_cache.IsUnderPressure());
        _time.Advance(TimeSpan.FromMinutes(1));
        Purge();
        Assert.Equal(100, _cache.GetMaxAddCount());
    }

    [Fact]
    public void A_full_cache_still_lets_the_agent_in_to_purge_but_reports_pressure()
    {
        using var slow = _cache.GetCacheCursor(Stream("slow"), new KafkaSequenceToken(3, 0));
        Read(100, Batch("slow", Enumerable.Range(0, 100).Select(i => (long)i).ToArray()));

        // The pulling agent purges only after asking this: 0 would stop the partition for good.
        Assert.Equal(1, _cache.GetMaxAddCount());
        Assert.True(_cache.IsUnderPressure());
    }

    [Fact]
    public void A_token_inside_a_purged_container_or_from_another_partition_is_a_miss()
    {
        Read(10, Batch("a", 0, 5, 9), Batch("b", 7));
        var a = _cache.GetCacheCursor(Stream("a"), new KafkaSequenceToken(3, 0));
        var b = _cache.GetCacheCursor(Stream("b"), new KafkaSequenceToken(3, 7));
        while (Next(a))
        {
        }

        while (Next(b))
        {
        }

        _time.Advance(TimeSpan.FromMinutes(1));
        Purge();

        Assert.Throws<QueueCacheMissException>(() => _cache.GetCacheCursor(Stream("a"), new KafkaSequenceToken(3, 5)));
        Assert.Throws<QueueCacheMissException>(() => _cache.GetCacheCursor(Stream("a"), new KafkaSequenceToken(4, 12)));
        a.Dispose();
        b.Dispose();
    }

    private sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
