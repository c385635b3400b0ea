using Microsoft.Extensions.Logging;

namespace StreamGrains.Kafka.Providers;

/// <summary>
/// What happens when a consumer keeps failing a batch after the pulling agent's retries (until its
/// <c>MaxEventDeliveryTime</c>): the batch's records go to the dead-letter topic with reason <c>delivery-failed</c> and
/// the consumer's error, and only then may the partition's checkpoint pass them (the cache holds it back until then).
/// The subscription stays and the stream goes on: one bad event must not stop its key or its partition.
/// </summary>
internal sealed partial class KafkaDeliveryFailureHandler(string providerName, KafkaPartitionContext partition, KafkaDeadLetterPublisher deadLetters, ILogger logger) : IStreamFailureHandler
{
    public bool ShouldFaultSubsriptionOnError => false;

    public async Task OnDeliveryFailure(GuidId subscriptionId, string streamProviderName, StreamId streamIdentity, StreamSequenceToken? sequenceToken)
    {
        using var scope = Scope(streamIdentity, sequenceToken);
        LogDeliveryFailure(logger, providerName, streamIdentity.ToString(), sequenceToken?.ToString() ?? "(none)", subscriptionId.Guid);
        try
        {
            // Bounded, so that a Kafka that does not answer cannot hold a stopping silo; the commit loop tries again.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await deadLetters.PublishFailedDeliveriesAsync(partition, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The batch stays undelivered; the receiver's commit loop tries again every commit interval.
            LogDeadLetterFailed(logger, ex, partition.Topic, partition.Partition.Partition.Value);
        }
    }

    public Task OnSubscriptionFailure(GuidId subscriptionId, string streamProviderName, StreamId streamIdentity, StreamSequenceToken? sequenceToken)
    {
        using var scope = Scope(streamIdentity, sequenceToken);
        LogSubscriptionFailure(logger, providerName, streamIdentity.ToString(), sequenceToken?.ToString() ?? "(none)", subscriptionId.Guid);
        return Task.CompletedTask;
    }

    private IDisposable? Scope(StreamId stream, StreamSequenceToken? token) =>
        logger.BeginScope(new Diagnostics.KafkaLogScope(
            new("stream", stream.ToString()),
            new("partition", (token as KafkaSequenceToken)?.Partition),
            new("offset", token?.SequenceNumber)));

    [LoggerMessage(Level = LogLevel.Error, Message = "Kafka streams {Provider}: giving up delivering {Stream} at {Token} to subscription {Subscription}; its records go to the dead-letter topic")]
    private static partial void LogDeliveryFailure(ILogger logger, string provider, string stream, string token, Guid subscription);

    [LoggerMessage(Level = LogLevel.Error, Message = "Kafka streams {Provider}: subscription {Subscription} to {Stream} failed at {Token}")]
    private static partial void LogSubscriptionFailure(ILogger logger, string provider, string stream, string token, Guid subscription);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not dead-letter a failed batch of {Topic}[{Partition}] yet; its offset stays uncommitted and the commit loop tries again")]
    private static partial void LogDeadLetterFailed(ILogger logger, Exception exception, string topic, int partition);
}
