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
        new(Stream(key), 3, offsets.Select(o => (object)$"{key}@{o}").ToList(), offsets.ToList(), 0) { Bytes = offsets.Length * 100 };

    private IQueueCacheCursor Cursor(string key, StreamSequenceToken? token)
    {
        var result = _cache.TryGetCacheCursor(Stream(key), token);
        Assert.Equal(QueueCacheCursorResultKind.Success, result.Kind);
        return result.Cursor!;
    }

    private void AssertMiss(string key, StreamSequenceToken token) =>
        Assert.Equal(QueueCacheCursorResultKind.CacheMiss, _cache.TryGetCacheCursor(Stream(key), token).Kind);

    private static List<long> Offsets(IQueueCacheCursor cursor) => ((KafkaBatchContainer)cursor.GetCurrent(out _)!).Offsets;

    /// <summary>
    /// What a receiver and its pulling agent do, in their order: the read position moves, then the agent hands the cache
    /// the read's containers, each carrying where the read ended.
    /// </summary>
    private void Read(long readUpTo, params KafkaBatchContainer[] batches)
    {
        _partition.ReadUpTo = readUpTo;
        _cache.AddToCache(batches.Select(b => (IBatchContainer)new KafkaBatchContainer(b.StreamId, b.Partition, b.Events, b.Offsets, b.LastTimestampMs) { ReadEnd = readUpTo, Bytes = b.Bytes }).ToList());
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
        using var pinA = Cursor("a", new KafkaSequenceToken(3, 0));
        using var pinB = Cursor("b", new KafkaSequenceToken(3, 1));

        Assert.Equal(0, Purge());
        Assert.Equal(4, _cache.UndeliveredRecords);
    }

    [Fact]
    public void The_checkpoint_advances_only_past_entries_every_cursor_has_left()
    {
        Read(6, Batch("a", 0, 2, 4), Batch("b", 1, 3), Batch("c", 5));
        // Where the agent starts a new stream's consumers: at the token of the stream's first container.
        var a = Cursor("a", KafkaSequenceToken.Range(3, 0, 4));
        var b = Cursor("b", KafkaSequenceToken.Range(3, 1, 3));
        var c = Cursor("c", new KafkaSequenceToken(3, 5));

        Assert.True(Next(b));
        Assert.False(Next(b)); // b's only entry is delivered; a's (offset 0) is not
        Assert.Equal(0, Purge());

        Assert.True(Next(a));
        Assert.Equal([0L, 2, 4], Offsets(a));
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
        var pin = Cursor("nobody", new KafkaSequenceToken(3, 0));
        pin.Dispose(); // registration found no subscriber
        using var someone = Cursor("someone", new KafkaSequenceToken(3, 2));

        Assert.Equal(2, Purge());
        Assert.True(Next(someone));
        Assert.False(Next(someone));
        Assert.Equal(3, Purge());
    }

    [Fact]
    public void The_checkpoint_never_moves_back_when_a_rewinding_cursor_appears()
    {
        Read(2, Batch("a", 0, 1));
        var a = Cursor("a", KafkaSequenceToken.Range(3, 0, 1));
        Assert.True(Next(a));
        Assert.False(Next(a));
        Assert.Equal(2, Purge());

        using var rewind = Cursor("a", new KafkaSequenceToken(3, 1));
        Assert.True(Next(rewind));
        Assert.Equal([1L], Offsets(rewind)); // from the token, mid-entry
        Assert.Equal(2, Purge());
        a.Dispose();
    }

    [Fact]
    public void A_drained_cursor_sees_entries_added_later()
    {
        using var a = Cursor("a", null);
        Assert.False(Next(a));
        Read(1, Batch("a", 0));
        Assert.True(Next(a));
        Assert.Equal(0, ((KafkaBatchContainer)a.GetCurrent(out _)!).FirstOffset);
    }

    [Fact]
    public void Delivered_entries_stay_for_rewinds_then_go_and_older_tokens_miss()
    {
        Read(2, Batch("a", 0), Batch("a", 1));
        var a = Cursor("a", new KafkaSequenceToken(3, 0));
        while (Next(a))
        {
        }

        Assert.False(_cache.TryPurgeFromCache(out _)); // delivered, but within the rewind window
        Assert.Equal(2, _cache.CachedRecords);

        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(_cache.TryPurgeFromCache(out var purged));
        Assert.Equal(2, purged.Count);
        Assert.Equal(0, _cache.CachedRecords);
        AssertMiss("a", new KafkaSequenceToken(3, 0));
        a.Dispose();
    }

    [Fact]
    public void Undelivered_records_put_the_cache_under_pressure_and_cap_what_may_be_added()
    {
        using var slow = Cursor("slow", new KafkaSequenceToken(3, 0));
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
        using var slow = Cursor("slow", new KafkaSequenceToken(3, 0));
        Read(100, Batch("slow", Enumerable.Range(0, 100).Select(i => (long)i).ToArray()));

        // The pulling agent purges only after asking this: 0 would stop the partition for good.
        Assert.Equal(1, _cache.GetMaxAddCount());
        Assert.True(_cache.IsUnderPressure());
    }

    [Fact]
    public void A_token_inside_a_purged_container_or_from_another_partition_is_a_miss()
    {
        Read(10, Batch("a", 0, 5, 9), Batch("b", 7));
        var a = Cursor("a", new KafkaSequenceToken(3, 0));
        var b = Cursor("b", new KafkaSequenceToken(3, 7));
        while (Next(a))
        {
        }

        while (Next(b))
        {
        }

        _time.Advance(TimeSpan.FromMinutes(1));
        Purge();

        AssertMiss("a", new KafkaSequenceToken(3, 5));
        AssertMiss("a", new KafkaSequenceToken(4, 12));
        a.Dispose();
        b.Dispose();
    }

    [Fact]
    public void A_delivery_token_from_a_smaller_container_skips_exactly_the_events_it_names()
    {
        // Another silo delivered offsets 0 and 2 of "a" as containers of one event; this silo read 0..4 in one go.
        Read(5, Batch("a", 0, 2, 4), Batch("b", 1, 3));
        var delivered = KafkaSequenceToken.Range(3, 2, 2);
        using var a = Cursor("a", delivered);

        Assert.True(Next(a));
        var first = (KafkaBatchContainer)a.GetCurrent(out _)!;
        Assert.Equal([2L], first.Offsets);
        Assert.Equal(delivered, first.SequenceToken); // Orleans skips it as delivered: the token names exactly these
        Assert.True(Next(a));
        Assert.Equal([4L], Offsets(a));
        Assert.True(a.GetCurrent(out _)!.SequenceToken.CompareTo(delivered) > 0);
        Assert.False(Next(a));
    }

    [Fact]
    public void A_containers_token_starts_a_cursor_at_its_first_event_and_equals_only_a_token_with_the_same_last_offset()
    {
        Read(6, Batch("a", 1, 3, 5));
        var token = Batch("a", 1, 3, 5).SequenceToken;

        using var a = Cursor("a", token);
        Assert.True(Next(a));
        Assert.Equal([1L, 3, 5], Offsets(a));
        Assert.Equal(token, a.GetCurrent(out _)!.SequenceToken);
        Assert.NotEqual(token, KafkaSequenceToken.Range(3, 1, 3));
        Assert.Equal(token, KafkaSequenceToken.Range(3, 4, 5));
    }

    [Fact]
    public void A_batch_its_consumer_failed_on_holds_the_checkpoint_until_it_is_dead_lettered()
    {
        Read(4, Batch("a", 0, 1), Batch("b", 2, 3));
        var a = Cursor("a", null);
        var b = Cursor("b", null);
        Assert.True(Next(a));
        a.RecordDeliveryFailure(); // the agent gave up on it
        Assert.False(Next(a)); // and moved on
        Assert.True(Next(b));
        Assert.False(Next(b));

        Assert.Equal(0, Purge());
        var failure = Assert.Single(_cache.PendingFailures);
        Assert.Equal([0L, 1], failure.Batch.Offsets);

        _cache.CompleteFailure(failure); // its records are in the dead-letter topic
        Assert.Equal(4, Purge());
        a.Dispose();
        b.Dispose();
    }

    [Fact]
    public void Bytes_bound_the_cache_as_records_do()
    {
        var tp = new TopicPartition("events", 3);
        var partition = new KafkaPartitionContext(tp, new KafkaCheckpointer(tp, [], _metrics, NullLogger.Instance));
        var cache = new KafkaQueueCache(partition, new KafkaQueueCacheOptions { MaxRecords = 1000, MaxBytes = 1000, RewindWindow = TimeSpan.FromMinutes(1) }, _metrics, _time, NullLogger.Instance);
        var slow = cache.TryGetCacheCursor(Stream("big"), null).Cursor!;

        Assert.Equal(1000, cache.GetMaxAddCount());
        Assert.Equal(1000, partition.ReadByteBudget);
        cache.AddToCache([new KafkaBatchContainer(Stream("big"), 3, ["x", "y"], [0L, 1], 0) { ReadEnd = 2, Bytes = 950 }]);
        Assert.True(cache.IsUnderPressure()); // 950 undelivered bytes of 1,000: reading pauses
        cache.GetMaxAddCount();
        Assert.Equal(50, partition.ReadByteBudget); // and a read would stop after 50 more

        while (slow.MoveNextWithResult().Kind == QueueCacheCursorMoveResultKind.Success)
        {
        }

        cache.TryPurgeFromCache(out _);
        Assert.False(cache.IsUnderPressure());
        Assert.Equal(0, cache.CachedBytes); // delivered, but more than half the bytes: not kept for rewinds
        slow.Dispose();
    }

    [Fact]
    public void A_read_of_dead_letters_only_moves_the_checkpoint_through_the_receivers_hand_over()
    {
        Read(2, Batch("a", 0, 1));
        using var a = Cursor("a", null);
        while (Next(a))
        {
        }

        Assert.Equal(2, Purge());
        _partition.ReadUpTo = 5; // records 2..4 were read and all dead-lettered: no container
        Assert.Equal(2, Purge());
        _partition.HandOver(5);
        Assert.Equal(5, Purge());
    }

    [Fact]
    public void A_failure_reported_before_the_retries_ran_out_is_no_dead_letter_and_a_failed_batch_is_offered_again()
    {
        var errors = new KafkaDeliveryErrors();
        var cache = new KafkaQueueCache(_partition, new KafkaQueueCacheOptions { MaxRecords = 100 }, _metrics, _time, NullLogger.Instance, errors, TimeSpan.FromMinutes(1));
        _partition.ReadUpTo = 2;
        cache.AddToCache([new KafkaBatchContainer(Stream("a"), 3, ["x", "y"], [0L, 1], 0) { ReadEnd = 2 }]);
        var a = cache.TryGetCacheCursor(Stream("a"), null).Cursor!;
        Assert.Equal(QueueCacheCursorMoveResultKind.Success, a.MoveNextWithResult().Kind);
        var batch = (KafkaBatchContainer)a.GetCurrent(out _)!;

        // The agent gives up after 10 s (it is stopping): not a consumer that keeps failing.
        errors.Record(batch, new InvalidOperationException("database down"));
        _time.Advance(TimeSpan.FromSeconds(10));
        a.RecordDeliveryFailure();
        Assert.Empty(cache.PendingFailures);
        cache.UpdateDeliveryProgress(null, _time.GetUtcNow().UtcDateTime);
        Assert.Equal(0, _partition.Checkpointer.DeliveredOffset); // the final commit stops before it

        // Had the agent moved on without giving up (a new handshake ended its retries), the batch comes again.
        Assert.Equal(QueueCacheCursorMoveResultKind.Success, a.MoveNextWithResult().Kind);
        Assert.Same(batch, a.GetCurrent(out _));

        // Failing for the whole budget: a dead letter with the consumer's error.
        _time.Advance(TimeSpan.FromMinutes(1));
        a.RecordDeliveryFailure();
        var failure = Assert.Single(cache.PendingFailures);
        Assert.Equal("InvalidOperationException: database down", failure.Error);
        Assert.Equal(QueueCacheCursorMoveResultKind.NoData, a.MoveNextWithResult().Kind); // and the cursor moves on
        a.Dispose();
    }

    private sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
