using Orleans.Streams.Core;
using StreamGrains.Events;
using StreamGrains.Integration.Tests.Infrastructure;
using StreamGrains.Kafka.Providers;
using StreamGrains.Kafka.Tracing;

namespace StreamGrains.Integration.Tests.Grains;

public interface IEchoGrain : IGrainWithStringKey
{
    Task<string> Echo(string text);
}

public sealed class EchoGrain : Grain, IEchoGrain
{
    public Task<string> Echo(string text) => Task.FromResult(text);
}

public interface IRecordingConsumerGrain : IGrainWithStringKey
{
    Task<int> Received();

    /// <summary>The silo this activation lives on.</summary>
    Task<string> Where();
}

/// <summary>Consumes every stream of the <c>events</c> namespace implicitly and records what arrives, in order.</summary>
[ImplicitStreamSubscription(KafkaTestCluster.Namespace)]
public sealed class RecordingConsumerGrain(ILocalSiloDetails silo) : Grain, IRecordingConsumerGrain, IStreamSubscriptionObserver, IAsyncObserver<StreamEvent>
{
    private KafkaSequenceToken? _last;
    private int _received;

    /// <summary>The event type this consumer always fails on: a poison event for the delivery-failure tests.</summary>
    public const string PoisonType = "poison";

    public Task<int> Received() => Task.FromResult(_received);

    public Task<string> Where() => Task.FromResult(silo.SiloAddress.ToParsableString());

    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        await handleFactory.Create<StreamEvent>().ResumeAsync(this);

    public async Task OnNextAsync(StreamEvent item, StreamSequenceToken? token = null)
    {
        if (item.Type == PoisonType)
        {
            throw new InvalidOperationException($"The consumer cannot process event {item.Id}.");
        }

        if (item.Type == "forward")
        {
            // What a profile grain does: ask another grain, then publish its decision, in the trace of the event that caused it.
            using var processing = KafkaTracing.StartProcessing("forward");
            await GrainFactory.GetGrain<IEchoGrain>(item.Entity).Echo(item.Id ?? string.Empty);
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
