namespace StreamGrains.Kafka.Providers;

/// <summary>
/// The events of one stream taken from one read of one partition, in offset order. Packing a stream's events together
/// makes one grain call deliver many of them (a grain call per event is the cost to design around). Never changed
/// after it is made, so Orleans passes it to local grains without copying.
/// </summary>
[GenerateSerializer, Immutable, Alias("sg.kafka.batch")]
public sealed class KafkaBatchContainer : IBatchContainer
{
    /// <summary>Creates a container.</summary>
    /// <param name="streamId">The stream.</param>
    /// <param name="partition">The Kafka partition the events were read from.</param>
    /// <param name="events">The events, in offset order.</param>
    /// <param name="offsets">The offset of each event's record.</param>
    /// <param name="lastTimestampMs">The Kafka timestamp of the last record (Unix milliseconds), for delivery latency.</param>
    /// <param name="requestContext">Orleans request context to import on delivery, if any.</param>
    /// <param name="traceParents">Each event's trace context (W3C <c>traceparent</c>), or null when none is traced.</param>
    /// <param name="deliveryTraceParent">The trace context of the delivery under way, imported into the consumer's request context.</param>
    public KafkaBatchContainer(StreamId streamId, int partition, List<object> events, List<long> offsets, long lastTimestampMs, Dictionary<string, object>? requestContext = null, List<string?>? traceParents = null, string? deliveryTraceParent = null)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(offsets);
        if (events.Count == 0 || events.Count != offsets.Count)
        {
            throw new ArgumentException("A container holds at least one event and exactly one offset per event.", nameof(offsets));
        }

        StreamId = streamId;
        Partition = partition;
        Events = events;
        Offsets = offsets;
        LastTimestampMs = lastTimestampMs;
        RequestContext = requestContext;
        TraceParents = traceParents;
        DeliveryTraceParent = deliveryTraceParent;
    }

    /// <inheritdoc />
    [Id(0)] public StreamId StreamId { get; }

    /// <summary>The Kafka partition.</summary>
    [Id(1)] public int Partition { get; }

    /// <summary>The events.</summary>
    [Id(2)] public List<object> Events { get; }

    /// <summary>The offset of each event's record.</summary>
    [Id(3)] public List<long> Offsets { get; }

    /// <summary>The Kafka timestamp of the last record, in Unix milliseconds.</summary>
    [Id(4)] public long LastTimestampMs { get; }

    /// <summary>Request context captured when the events were published from Orleans.</summary>
    [Id(5)] public Dictionary<string, object>? RequestContext { get; }

    /// <summary>Each event's trace context (W3C <c>traceparent</c>), or null when no event is traced.</summary>
    [Id(6)] public List<string?>? TraceParents { get; }

    /// <summary>The trace context of the delivery under way, if traced.</summary>
    [Id(7)] public string? DeliveryTraceParent { get; }

    /// <summary>The offset of the first event.</summary>
    public long FirstOffset => Offsets[0];

    /// <summary>The offset of the last event.</summary>
    public long LastOffset => Offsets[^1];

    /// <summary>
    /// The offset after the last record of the read this container came from (on the reading silo only; 0 after a
    /// copy). The cache hands it to the checkpointer once the container is cached: a read dropped on its way to the
    /// cache never counts as handed over.
    /// </summary>
    [field: NonSerialized]
    internal long ReadEnd { get; init; }

    /// <summary>The key and value bytes of the records (on the reading silo only), for the cache's byte bound.</summary>
    [field: NonSerialized]
    internal long Bytes { get; init; }

    /// <inheritdoc />
    /// <remarks>Names the range of offsets this container holds: see <see cref="KafkaSequenceToken"/>.</remarks>
    public StreamSequenceToken SequenceToken => KafkaSequenceToken.Range(Partition, Offsets[0], Offsets[^1]);

    /// <inheritdoc />
    public IEnumerable<Tuple<T, StreamSequenceToken>> GetEvents<T>()
    {
        for (var i = 0; i < Events.Count; i++)
        {
            if (Events[i] is T typed)
            {
                yield return Tuple.Create<T, StreamSequenceToken>(typed, new KafkaSequenceToken(Partition, Offsets[i]));
            }
        }
    }

    /// <summary>
    /// The request context key under which a delivery carries <see cref="LastTimestampMs"/> (a <see cref="long"/>), so
    /// that a consumer can measure from the record's Kafka timestamp to what it does with the event.
    /// </summary>
    public const string RecordTimestampKey = "sg.kafka.ts";

    /// <summary>
    /// The request context key under which a delivery carries <see cref="Partition"/> (an <see cref="int"/>): a
    /// placement director can put the consumer where the partition is read, and a consumer can tell where its events
    /// come from.
    /// </summary>
    public const string PartitionKey = "sg.kafka.partition";

    /// <summary>
    /// The request-context key naming the silo whose receiver read the delivered records (the provider's owner name): a
    /// consumer told by another reader than its own silo's knows its partition is read elsewhere, even while its own
    /// silo still winds down the partition it gave up.
    /// </summary>
    public const string ReaderKey = "sg.kafka.reader";

    /// <inheritdoc />
    public bool ImportRequestContext()
    {
        Orleans.Runtime.RequestContext.Set(RecordTimestampKey, LastTimestampMs);
        Orleans.Runtime.RequestContext.Set(PartitionKey, Partition);
        if (RequestContext is { Count: > 0 })
        {
            foreach (var (key, value) in RequestContext)
            {
                Orleans.Runtime.RequestContext.Set(key, value);
            }
        }

        if (DeliveryTraceParent is not null)
        {
            // Orleans' activity propagation reads the W3C fields from the request context.
            Orleans.Runtime.RequestContext.Set(Tracing.KafkaTracing.TraceParentHeader, DeliveryTraceParent);
        }

        return true; // the record timestamp at least: Orleans clears the context after the delivery
    }

    /// <summary>This container as delivered under the trace context <paramref name="traceParent"/>.</summary>
    internal KafkaBatchContainer WithDeliveryTrace(string traceParent) =>
        new(StreamId, Partition, Events, Offsets, LastTimestampMs, RequestContext, TraceParents, traceParent);

    /// <summary>
    /// The events of this container with offsets from <paramref name="from"/> to <paramref name="to"/> (inclusive), this
    /// container itself when that is all of them, or null when none is in the range.
    /// </summary>
    /// <param name="from">The first offset to keep.</param>
    /// <param name="to">The last offset to keep.</param>
    internal KafkaBatchContainer? Slice(long from, long to)
    {
        if (from <= FirstOffset && to >= LastOffset)
        {
            return this;
        }

        var start = from <= FirstOffset ? 0 : Offsets.FindIndex(o => o >= from);
        if (start < 0)
        {
            return null;
        }

        var end = to >= LastOffset ? Offsets.Count : Offsets.FindIndex(start, o => o > to);
        if (end < 0)
        {
            end = Offsets.Count;
        }

        var count = end - start;
        return count <= 0
            ? null
            : new KafkaBatchContainer(StreamId, Partition, Events.GetRange(start, count), Offsets.GetRange(start, count), LastTimestampMs, RequestContext, TraceParents?.GetRange(start, count));
    }

    /// <inheritdoc />
    public override string ToString() => $"{StreamId} partition {Partition} offsets {FirstOffset}..{LastOffset} ({Events.Count} events)";
}
