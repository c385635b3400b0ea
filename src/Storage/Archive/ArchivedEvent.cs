namespace StreamGrains.Storage.Archive;

/// <summary>One row of the event archive: an event and where it was read.</summary>
/// <param name="Topic">The Kafka topic.</param>
/// <param name="Partition">The partition.</param>
/// <param name="Offset">The offset.</param>
/// <param name="Id">The event id, when it has one.</param>
/// <param name="Entity">The entity.</param>
/// <param name="Type">The event type.</param>
/// <param name="Timestamp">The event time.</param>
/// <param name="Value">The value, when it has one.</param>
/// <param name="Attributes">The attributes as a JSON object, when it has any.</param>
public sealed record ArchivedEvent(string Topic, int Partition, long Offset, string? Id, string Entity, string Type, DateTimeOffset Timestamp, double? Value, string? Attributes);
