using System.Collections.Concurrent;

namespace StreamGrains.Integration.Tests.Grains;

public interface IStatefulCounterGrain : IGrainWithStringKey
{
    Task<int> Increment();

    Task<int> Count();
}

[GenerateSerializer]
public sealed class CounterState
{
    [Id(0)] public int Count { get; set; }
}

/// <summary>A counter whose state lives in the default grain storage.</summary>
public sealed class StatefulCounterGrain([PersistentState("counter")] IPersistentState<CounterState> state) : Grain, IStatefulCounterGrain
{
    public async Task<int> Increment()
    {
        state.State.Count++;
        await state.WriteStateAsync();
        return state.State.Count;
    }

    public Task<int> Count() => Task.FromResult(state.State.Count);
}

public interface IReminderProbeGrain : IGrainWithStringKey
{
    Task Start(TimeSpan period);
}

/// <summary>Counts the ticks of a reminder, in a log the test reads.</summary>
public sealed class ReminderProbeGrain : Grain, IReminderProbeGrain, IRemindable
{
    public static ConcurrentDictionary<string, int> Ticks { get; } = new(StringComparer.Ordinal);

    public async Task Start(TimeSpan period) => await this.RegisterOrUpdateReminder("probe", TimeSpan.FromSeconds(1), period);

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        Ticks.AddOrUpdate(this.GetPrimaryKeyString(), 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }
}
