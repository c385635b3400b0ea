using Confluent.Kafka;

namespace StreamGrains.Kafka.Observers;

/// <summary>
/// Sees every valid record a silo reads, in offset order per partition, before it reaches the queue cache: the place
/// for work on the whole input that needs no grain, such as archiving it. Paired with an
/// <see cref="Checkpointing.IKafkaCommitGate"/>, an observer can hold a partition's commits back until its work on the
/// records is done, so that a crash loses none of it.
/// </summary>
/// <remarks>
/// Called on the partition's read path: the read waits for the returned task, which is how an observer that cannot keep
/// up slows reading down (and with it, memory). Records read again after a crash or a rewind are observed again.
/// </remarks>
public interface IKafkaReadObserver
{
    /// <summary>Takes the valid records of one read of one partition.</summary>
    /// <param name="partition">The topic and partition.</param>
    /// <param name="records">The records, in offset order.</param>
    /// <param name="cancellationToken">Cancelled when the partition's reading stops.</param>
    ValueTask OnReadAsync(TopicPartition partition, IReadOnlyList<KafkaObservedRecord> records, CancellationToken cancellationToken);
}

/// <summary>A valid record as a <see cref="IKafkaReadObserver"/> sees it.</summary>
/// <param name="Offset">Its offset.</param>
/// <param name="Timestamp">Its Kafka timestamp.</param>
/// <param name="StreamKey">Its stream key (the entity).</param>
/// <param name="Event">The decoded event.</param>
/// <param name="Key">The record's key as read, for an observer that passes the record on unchanged.</param>
/// <param name="Value">The record's value as read.</param>
/// <param name="Headers">The record's headers as read.</param>
public readonly record struct KafkaObservedRecord(long Offset, Timestamp Timestamp, string StreamKey, object Event, byte[]? Key = null, byte[]? Value = null, Headers? Headers = null);
