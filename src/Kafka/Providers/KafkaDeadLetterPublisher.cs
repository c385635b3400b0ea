using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using StreamGrains.Kafka.DataAdapters;
using StreamGrains.Kafka.Statistics;

namespace StreamGrains.Kafka.Providers;

/// <summary>
/// Writes records that cannot become stream events to <c>&lt;topic&gt;.dlq</c>, with the original key, value and headers
/// and headers that say why and where from: <c>dlq.reason</c>, <c>dlq.detail</c>, <c>dlq.source.topic</c>,
/// <c>dlq.source.partition</c>, <c>dlq.source.offset</c>, <c>dlq.source.timestamp</c>.
/// </summary>
internal sealed partial class KafkaDeadLetterPublisher(
    IProducer<byte[]?, byte[]?> producer,
    KafkaStreamOptions options,
    KafkaStreamMetrics metrics,
    ILogger<KafkaDeadLetterPublisher> logger)
{
    public const string ReasonHeader = "dlq.reason";
    public const string DetailHeader = "dlq.detail";
    public const string SourceTopicHeader = "dlq.source.topic";
    public const string SourcePartitionHeader = "dlq.source.partition";
    public const string SourceOffsetHeader = "dlq.source.offset";
    public const string SourceTimestampHeader = "dlq.source.timestamp";
    public const string OriginalSizeHeader = "dlq.original.size";

    /// <summary>Key plus value of a dead letter stay under this, leaving room for headers below librdkafka's and Kafka's default 1 MB message limit.</summary>
    public const int MaxDeadLetterBytes = 900_000;

    /// <summary>Writes the rejected records and waits until Kafka acknowledged every one.</summary>
    /// <exception cref="ProduceException{TKey,TValue}">One could not be written; none may be considered handled.</exception>
    public async Task PublishAsync(IReadOnlyList<(KafkaInboundRecord Record, string Reason, string Detail)> rejected, CancellationToken cancellationToken)
    {
        var writes = new Task[rejected.Count];
        for (var i = 0; i < rejected.Count; i++)
        {
            var (record, reason, detail) = rejected[i];
            var headers = new Headers();
            if (record.Headers is not null)
            {
                foreach (var header in record.Headers)
                {
                    headers.Add(header.Key, header.GetValueBytes());
                }
            }

            var value = record.Value;
            var size = (record.Key?.Length ?? 0) + (value?.Length ?? 0);
            var room = Math.Max(0, Math.Min(options.MaxRecordBytes, MaxDeadLetterBytes) - (record.Key?.Length ?? 0));
            if (value is not null && value.Length > room)
            {
                // Too big for Kafka's default message size with the headers: the dead letter keeps the value's head;
                // the whole record stays in the source topic, where the source headers point.
                value = value.AsSpan(0, room).ToArray();
            }

            headers.Add(ReasonHeader, Encoding.UTF8.GetBytes(reason));
            headers.Add(DetailHeader, Encoding.UTF8.GetBytes(detail));
            headers.Add(SourceTopicHeader, Encoding.UTF8.GetBytes(record.Topic));
            headers.Add(SourcePartitionHeader, Encoding.UTF8.GetBytes(record.Partition.ToString(CultureInfo.InvariantCulture)));
            headers.Add(SourceOffsetHeader, Encoding.UTF8.GetBytes(record.Offset.ToString(CultureInfo.InvariantCulture)));
            headers.Add(SourceTimestampHeader, Encoding.UTF8.GetBytes(record.Timestamp.UnixTimestampMs.ToString(CultureInfo.InvariantCulture)));
            headers.Add(OriginalSizeHeader, Encoding.UTF8.GetBytes(size.ToString(CultureInfo.InvariantCulture)));

            var topic = options.DeadLetterTopicOf(record.Topic);
            writes[i] = producer.ProduceAsync(topic, new Message<byte[]?, byte[]?> { Key = record.Key, Value = value, Headers = headers }, cancellationToken);
            LogDeadLettered(logger, record.Topic, record.Partition, record.Offset, reason, detail);
        }

        await Task.WhenAll(writes).ConfigureAwait(false);
        foreach (var (record, reason, _) in rejected)
        {
            metrics.DeadLettered(record.Topic, reason);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dead-lettering {Topic}[{Partition}]@{Offset}: {Reason}: {Detail}")]
    private static partial void LogDeadLettered(ILogger logger, string topic, int partition, long offset, string reason, string detail);
}
