using StreamGrains.Events;
using StreamGrains.Integration.Tests.Infrastructure;
using StreamGrains.Kafka.Providers;

namespace StreamGrains.Integration.Tests.Grains;

public interface IRewindProbeGrain : IGrainWithStringKey
{
    /// <summary>Subscribes explicitly to the stream of this grain's key, from a token.</summary>
    Task SubscribeFrom(int partition, long offset);
}

/// <summary>An explicit subscriber that starts from a given token: a rewind.</summary>
public sealed class RewindProbeGrain : Grain, IRewindProbeGrain, IAsyncObserver<StreamEvent>
{
    public async Task SubscribeFrom(int partition, long offset)
    {
        var stream = this.GetStreamProvider(KafkaTestCluster.ProviderName).GetStream<StreamEvent>(KafkaTestCluster.Namespace, this.GetPrimaryKeyString());
        await stream.SubscribeAsync(this, new KafkaSequenceToken(partition, offset));
    }

    public Task OnNextAsync(StreamEvent item, StreamSequenceToken? token = null)
    {
        var kafka = (KafkaSequenceToken)token!;
        DeliveryLog.RecordProbe(new Delivery(item.Entity, kafka.Partition, kafka.Offset, false, item.Id));
        return Task.CompletedTask;
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;
}

public interface IPublisherGrain : IGrainWithStringKey
{
    /// <summary>Publishes <paramref name="count"/> events about this grain's key to the publish-only topic.</summary>
    Task Publish(int count);
}

public sealed class PublisherGrain : Grain, IPublisherGrain
{
    public async Task Publish(int count)
    {
        var key = this.GetPrimaryKeyString();
        var stream = this.GetStreamProvider(KafkaTestCluster.ProviderName).GetStream<StreamEvent>(KafkaTestCluster.PublishedTopic, key);
        var events = Enumerable.Range(0, count).Select(i => new StreamEvent
        {
            Id = $"{key}-published-{i}",
            Entity = key,
            Type = "published",
            Timestamp = DateTimeOffset.UtcNow,
            Value = i,
        }).ToList();
        await stream.OnNextBatchAsync(events);
    }
}
