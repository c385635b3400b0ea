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

    public Task OnNextAsync(StreamEvent item, StreamSequenceToken? token = null)
    {
        var kafka = Assert.IsType<KafkaSequenceToken>(token);
        var replay = !kafka.IsAfter(_last);
        if (!replay)
        {
            _last = kafka;
        }

        _received++;
        DeliveryLog.Record(new Delivery(item.Entity, kafka.Partition, kafka.Offset, replay, item.Id));
        return Task.CompletedTask;
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;
}
