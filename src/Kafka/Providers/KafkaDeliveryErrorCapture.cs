namespace StreamGrains.Kafka.Providers;

/// <summary>
/// Watches the pulling agents' delivery calls (<c>DeliverBatch</c> with a Kafka batch container) and keeps the error a
/// failing one returned, for the dead letter of a batch the consumer never took. Any other call passes straight through.
/// </summary>
internal sealed class KafkaDeliveryErrorCapture(KafkaDeliveryErrors errors) : IOutgoingGrainCallFilter
{
    private const string DeliverBatch = "DeliverBatch";

    public Task Invoke(IOutgoingGrainCallContext context)
    {
        if (!string.Equals(context.MethodName, DeliverBatch, StringComparison.Ordinal) || BatchOf(context.Request) is not { } batch)
        {
            return context.Invoke();
        }

        return InvokeWatched(context, batch);
    }

    private async Task InvokeWatched(IOutgoingGrainCallContext context, KafkaBatchContainer batch)
    {
        try
        {
            await context.Invoke().ConfigureAwait(false);
            errors.Clear(batch);
        }
        catch (Exception ex)
        {
            errors.Record(batch, ex);
            throw;
        }
    }

    private static KafkaBatchContainer? BatchOf(Orleans.Serialization.Invocation.IInvokable request)
    {
        for (var i = request.GetArgumentCount() - 1; i >= 0; i--)
        {
            if (request.GetArgument(i) is KafkaBatchContainer batch)
            {
                return batch;
            }
        }

        return null;
    }
}
