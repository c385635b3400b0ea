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

    /// <summary>Whether this silo reads, now, the partition the events of <paramref name="entity"/> come from.</summary>
    /// <param name="entity">An entity (the key of its events).</param>
    bool IsReadHere(string entity);

    /// <summary>The Kafka timestamp of the record being delivered, from the delivery's request context, when known.</summary>
    DateTimeOffset? CurrentRecordTimestamp();
}
