using StreamGrains.Decisions;
using StreamGrains.Events;

namespace StreamGrains.Rules;

/// <summary>
/// Fires on an event when the entity has at least <see cref="Count"/> matching events (this one included) with event
/// time in (ts − <see cref="Within"/>, ts]. Events may arrive out of order: the rule keeps the matching event times of
/// twice <see cref="Within"/> before the latest one it saw, so an event up to <see cref="Within"/> behind the latest is
/// counted exactly; one further behind sees only what is still kept.
/// </summary>
public sealed class VelocityRule : Rule
{
    /// <summary>Event times kept per entity at most (the oldest go first).</summary>
    public const int MaxKeptTimes = 10_000;

    /// <summary>Creates the rule.</summary>
    /// <param name="name">Its name.</param>
    /// <param name="action">Its action.</param>
    /// <param name="eventTypes">The event types it counts.</param>
    /// <param name="count">How many events make it fire.</param>
    /// <param name="within">The span of event time.</param>
    public VelocityRule(string name, RuleAction action, IEnumerable<string> eventTypes, int count, TimeSpan within)
        : base(name, action, eventTypes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(within, TimeSpan.Zero);
        Count = count;
        Within = within;
    }

    /// <inheritdoc />
    public override RuleKind Kind => RuleKind.Velocity;

    /// <summary>How many events make it fire.</summary>
    public int Count { get; }

    /// <summary>The span of event time.</summary>
    public TimeSpan Within { get; }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, AttributeValue>? Evaluate(in RuleInput input)
    {
        var state = input.Profile.StateOf(Name);
        var times = state.Times ??= [];
        var ts = input.Event.Timestamp.UtcTicks;

        // Insert in order (almost always at the end).
        var index = times.Count;
        while (index > 0 && times[index - 1] > ts)
        {
            index--;
        }

        times.Insert(index, ts);

        // Events in (ts - Within, ts]: this one and those before it down to the span's start (none after it is <= ts).
        var from = ts - Within.Ticks;
        var inWindow = 0;
        for (var i = index; i >= 0 && times[i] > from; i--)
        {
            inWindow++;
        }

        // Forget what no event up to Within behind the newest can count, and the oldest past the cap.
        var horizon = times[^1] - (2 * Within.Ticks);
        var stale = 0;
        while (stale < times.Count && times[stale] <= horizon)
        {
            stale++;
        }

        stale = Math.Max(stale, times.Count - MaxKeptTimes);
        if (stale > 0)
        {
            times.RemoveRange(0, stale);
        }

        return inWindow >= Count
            ? new Dictionary<string, AttributeValue>(StringComparer.Ordinal)
            {
                ["observed"] = inWindow,
                ["count"] = Count,
                ["withinMs"] = Within.TotalMilliseconds,
            }
            : null;
    }
}
