using Microsoft.Extensions.Logging;

namespace StreamGrains.Kafka.Providers;

/// <summary>
/// What happens when a consumer keeps failing a batch after the pulling agent's retries: it is logged and counted, the
/// subscription stays, and the partition goes on (one bad event must not stop a partition).
/// </summary>
internal sealed partial class KafkaDeliveryFailureHandler(string providerName, ILogger logger) : IStreamFailureHandler
{
    public bool ShouldFaultSubsriptionOnError => false;

    public Task OnDeliveryFailure(GuidId subscriptionId, string streamProviderName, StreamId streamIdentity, StreamSequenceToken? sequenceToken)
    {
        using var scope = Scope(streamIdentity, sequenceToken);
        LogDeliveryFailure(logger, providerName, streamIdentity.ToString(), sequenceToken?.ToString() ?? "(none)", subscriptionId.Guid);
        return Task.CompletedTask;
    }

    public Task OnSubscriptionFailure(GuidId subscriptionId, string streamProviderName, StreamId streamIdentity, StreamSequenceToken? sequenceToken)
    {
        using var scope = Scope(streamIdentity, sequenceToken);
        LogSubscriptionFailure(logger, providerName, streamIdentity.ToString(), sequenceToken?.ToString() ?? "(none)", subscriptionId.Guid);
        return Task.CompletedTask;
    }

    private IDisposable? Scope(StreamId stream, StreamSequenceToken? token) =>
        logger.BeginScope(new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["stream"] = stream.ToString(),
            ["partition"] = (token as KafkaSequenceToken)?.Partition,
            ["offset"] = token?.SequenceNumber,
        });

    [LoggerMessage(Level = LogLevel.Error, Message = "Kafka streams {Provider}: giving up delivering {Stream} at {Token} to subscription {Subscription}")]
    private static partial void LogDeliveryFailure(ILogger logger, string provider, string stream, string token, Guid subscription);

    [LoggerMessage(Level = LogLevel.Error, Message = "Kafka streams {Provider}: subscription {Subscription} to {Stream} failed at {Token}")]
    private static partial void LogSubscriptionFailure(ILogger logger, string provider, string stream, string token, Guid subscription);
}
