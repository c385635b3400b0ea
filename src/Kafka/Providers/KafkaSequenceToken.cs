using System.Globalization;

namespace StreamGrains.Kafka.Providers;

/// <summary>
/// Where an event sits in Kafka: its partition and offset. Tokens of one partition are ordered by offset, so a
/// consumer that remembers the last token it processed can tell a replayed event (not newer) from a new one, and a
/// subscription can be rewound to any token still cached.
/// </summary>
[GenerateSerializer, Immutable, Alias("sg.kafka.token")]
public sealed class KafkaSequenceToken : StreamSequenceToken
{
    /// <summary>Creates a token.</summary>
    /// <param name="partition">The Kafka partition.</param>
    /// <param name="offset">The record's offset.</param>
    /// <param name="eventIndex">The event's index within the record (0 for one event per record).</param>
    public KafkaSequenceToken(int partition, long offset, int eventIndex = 0)
    {
        Partition = partition;
        SequenceNumber = offset;
        EventIndex = eventIndex;
    }

    /// <summary>The Kafka partition.</summary>
    [Id(0)] public int Partition { get; private set; }

    /// <summary>The record's offset in its partition.</summary>
    public long Offset => SequenceNumber;

    /// <inheritdoc />
    [Id(1)] public override long SequenceNumber { get; protected set; }

    /// <inheritdoc />
    [Id(2)] public override int EventIndex { get; protected set; }

    /// <summary>True when this token comes after <paramref name="other"/> in the same partition.</summary>
    /// <param name="other">A token seen before, or null.</param>
    public bool IsAfter(StreamSequenceToken? other) => other is null || CompareTo(other) > 0;

    /// <inheritdoc />
    public override bool Equals(StreamSequenceToken? other) =>
        other is not null && other.SequenceNumber == SequenceNumber && other.EventIndex == EventIndex &&
        (other is not KafkaSequenceToken kafka || kafka.Partition == Partition);

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

        var byOffset = SequenceNumber.CompareTo(other.SequenceNumber);
        return byOffset != 0 ? byOffset : EventIndex.CompareTo(other.EventIndex);
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"[partition {Partition}, offset {SequenceNumber}, event {EventIndex}]");
}
