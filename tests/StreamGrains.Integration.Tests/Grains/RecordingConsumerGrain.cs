using Orleans.Streams.Core;
using StreamGrains.Events;
using StreamGrains.Integration.Tests.Infrastructure;
using StreamGrains.Kafka.Providers;

namespace StreamGrains.Integration.Tests.Grains;

public interface IRecordingConsumerGrain : IGrainWithStringKey
{
    Task<int> Received();
}

/// <summary>Consumes every stream of the <c>events</c> namespace implicitly and records what arrives, in order.</summary>
[ImplicitStreamSubscription(KafkaTestCluster.Namespace)]
public sealed class RecordingConsumerGrain : Grain, IRecordingConsumerGrain, IStreamSubscriptionObserver, IAsyncObserver<StreamEvent>
{
    private KafkaSequenceToken? _last;
    private int _received;

    public Task<int> Received() => Task.FromResult(_received);

    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        await handleFactory.Create<StreamEvent>().ResumeAsync(this);

    public async Task OnNextAsync(StreamEvent item, StreamSequenceToken? token = null)
    {
        if (item.Type == "forward")
        {
            // What a profile grain does with a decision: publish it onward, in the trace of the event that caused it.
            var onward = this.GetStreamProvider(KafkaTestCluster.ProviderName).GetStream<StreamEvent>(KafkaTestCluster.PublishedTopic, item.Entity);
            await onward.OnNextAsync(item with { Type = "forwarded" });
        }

        var kafka = Assert.IsType<KafkaSequenceToken>(token);
        var replay = !kafka.IsAfter(_last);
        if (!replay)
        {
            _last = kafka;
        }

        _received++;
        DeliveryLog.Record(new Delivery(item.Entity, kafka.Partition, kafka.Offset, replay, item.Id));
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;
}
