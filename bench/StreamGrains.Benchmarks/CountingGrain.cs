using Orleans.Streams;
using Orleans.Streams.Core;
using StreamGrains.Events;

namespace StreamGrains.Benchmarks;

public interface ICountingGrain : IGrainWithStringKey
{
    Task<long> Count();
}

/// <summary>The trivial consumer of the provider benchmark: counts the events of its entity.</summary>
[ImplicitStreamSubscription(StreamNames.Events)]
public sealed class CountingGrain : Grain, ICountingGrain, IStreamSubscriptionObserver, IAsyncObserver<StreamEvent>
{
    private static long _total;
    private long _count;

    public static long Total => Interlocked.Read(ref _total);

    public static void Reset() => Interlocked.Exchange(ref _total, 0);

    public Task<long> Count() => Task.FromResult(_count);

    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) => await handleFactory.Create<StreamEvent>().ResumeAsync(this);

    public Task OnNextAsync(StreamEvent item, StreamSequenceToken? token = null)
    {
        _count++;
        Interlocked.Increment(ref _total);
        return Task.CompletedTask;
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;
}
