using System.Globalization;

namespace StreamGrains.Kafka.Providers;

/// <summary>
/// Where events sit in Kafka: a partition and a range of offsets. An event's token names its own offset; a batch
/// container's token names the offsets of the events it holds, from <see cref="FirstOffset"/> to <see cref="Offset"/>.
/// </summary>
/// <remarks>
/// <para>Orleans uses a container's token both ways: as "start here" (a new stream's first batch, a rewind) and as
/// "delivered up to here" (a consumer's handshake, and the check that skips a batch already delivered). A token that
/// names only a container's first offset breaks the second use when another silo packs the same records into larger
/// containers after a handover: the larger container has the same first offset and newer events. So the identity of a
/// token, for <see cref="Equals(StreamSequenceToken?)"/> and <see cref="CompareTo"/>, is its partition and its last
/// offset (<see cref="StreamSequenceToken.SequenceNumber"/>); a cache cursor asked for a token starts at its first
/// offset, and hands the events up to its last offset over as a batch of their own, so "delivered up to here" skips
/// exactly those.</para>
/// <para>Order: by partition, then by offset. Tokens of different partitions say nothing about which event came
/// first; a consumer that remembers its last token to recognise replays should use <see cref="IsAfter"/>, which treats
/// a token of another partition (the topic's partition count changed) as new rather than as a replay.</para>
/// </remarks>
[GenerateSerializer, Immutable, Alias("sg.kafka.token")]
public sealed class KafkaSequenceToken : StreamSequenceToken
{
    /// <summary>Creates the token of one event.</summary>
    /// <param name="partition">The Kafka partition.</param>
    /// <param name="offset">The record's offset.</param>
    public KafkaSequenceToken(int partition, long offset)
        : this(partition, offset, offset)
    {
    }

    private KafkaSequenceToken(int partition, long firstOffset, long lastOffset)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstOffset, lastOffset);
        Partition = partition;
        FirstOffset = firstOffset;
        SequenceNumber = lastOffset;
    }

    /// <summary>The Kafka partition.</summary>
    [Id(0)] public int Partition { get; private set; }

    /// <summary>The offset of the (last) event this token names.</summary>
    public long Offset => SequenceNumber;

    /// <summary>The offset of the first event this token names; equal to <see cref="Offset"/> for one event.</summary>
    [Id(3)] public long FirstOffset { get; private set; }

    /// <inheritdoc />
    [Id(1)] public override long SequenceNumber { get; protected set; }

    /// <inheritdoc />
    /// <remarks>Always 0: a Kafka record holds one event.</remarks>
    [Id(2)] public override int EventIndex { get; protected set; }

    /// <summary>The token of the events with offsets <paramref name="firstOffset"/> to <paramref name="lastOffset"/>.</summary>
    /// <param name="partition">The Kafka partition.</param>
    /// <param name="firstOffset">The first event's offset.</param>
    /// <param name="lastOffset">The last event's offset.</param>
    public static KafkaSequenceToken Range(int partition, long firstOffset, long lastOffset) => new(partition, firstOffset, lastOffset);

    /// <summary>
    /// True when this token names an event after <paramref name="other"/>: <paramref name="other"/> is null, of another
    /// partition, or at a lower offset of the same partition. A consumer that keeps its last token drops an event whose
    /// token is not after it as a replay.
    /// </summary>
    /// <param name="other">A token seen before, or null.</param>
    public bool IsAfter(StreamSequenceToken? other) =>
        other is null || (other is KafkaSequenceToken kafka && kafka.Partition != Partition) || CompareTo(other) > 0;

    /// <inheritdoc />
    /// <remarks>Only another Kafka token of the same partition ending at the same offset is equal.</remarks>
    public override bool Equals(StreamSequenceToken? other) =>
        other is KafkaSequenceToken kafka && kafka.Partition == Partition && kafka.SequenceNumber == SequenceNumber && kafka.EventIndex == EventIndex;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is StreamSequenceToken token && Equals(token);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Partition, SequenceNumber, EventIndex);

    /// <inheritdoc />
    public override int CompareTo(StreamSequenceToken? other)
    {
        if (other is null)
        {
            return 1;
        }

        if (other is KafkaSequenceToken kafka && kafka.Partition != Partition)
        {
            return Partition.CompareTo(kafka.Partition);
        }

        var byOffset = SequenceNumber.CompareTo(other.SequenceNumber);
        return byOffset != 0 ? byOffset : EventIndex.CompareTo(other.EventIndex);
    }

    /// <inheritdoc />
    public override string ToString() => FirstOffset == SequenceNumber
        ? string.Create(CultureInfo.InvariantCulture, $"[partition {Partition}, offset {SequenceNumber}]")
        : string.Create(CultureInfo.InvariantCulture, $"[partition {Partition}, offsets {FirstOffset}..{SequenceNumber}]");
}
