using Orleans.Streams;

namespace StreamGrains.Profiles;

/// <summary>
/// Reads where an event sits in its source from the stream's sequence token: the Kafka partition and offset. The host
/// implements it for its stream provider, so that grains know the provider only through Orleans' stream API.
/// </summary>
public interface IStreamPositions
{
    /// <summary>The partition and offset an event's token names, when the token is the provider's.</summary>
    /// <param name="token">The event's token.</param>
    /// <param name="partition">Its partition.</param>
    /// <param name="offset">Its offset.</param>
    bool TryLocate(StreamSequenceToken? token, out int partition, out long offset);

    /// <summary>The name this silo reads partitions under (as partition owners are shown in <c>/api/info</c>).</summary>
    string LocalReader { get; }

    /// <summary>Whether this silo reads <paramref name="partition"/> of the events topic now.</summary>
    /// <param name="partition">A partition.</param>
    bool IsReadHere(int partition);

    /// <summary>
    /// Whether the delivery being handled came from another silo's reader: then the partition is read elsewhere, even if
    /// this silo has not finished giving it up (and still says <see cref="IsReadHere"/>).
    /// </summary>
    bool IsDeliveredFromElsewhere();

    /// <summary>The Kafka timestamp of the record being delivered, from the delivery's request context, when known.</summary>
    DateTimeOffset? CurrentRecordTimestamp();
}
