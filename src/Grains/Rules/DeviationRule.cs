using StreamGrains.Decisions;
using StreamGrains.Events;

namespace StreamGrains.Rules;

/// <summary>
/// Fires when an event's <c>value</c> is more than <see cref="Sigmas"/> standard deviations from the mean of the entity's
/// earlier values, once there are at least <see cref="MinEvents"/> of them (and they are not all equal).
/// </summary>
public sealed class DeviationRule : Rule
{
    /// <summary>Creates the rule.</summary>
    /// <param name="name">Its name.</param>
    /// <param name="action">Its action.</param>
    /// <param name="eventTypes">The event types it looks at.</param>
    /// <param name="sigmas">The distance that makes it fire, in standard deviations.</param>
    /// <param name="minEvents">Earlier values needed.</param>
    public DeviationRule(string name, RuleAction action, IEnumerable<string> eventTypes, double sigmas, int minEvents)
        : base(name, action, eventTypes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(sigmas, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(minEvents, 2);
        Sigmas = sigmas;
        MinEvents = minEvents;
    }

    /// <inheritdoc />
    public override RuleKind Kind => RuleKind.Deviation;

    /// <summary>The distance that makes it fire.</summary>
    public double Sigmas { get; }

    /// <summary>Earlier values needed.</summary>
    public int MinEvents { get; }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, AttributeValue>? Evaluate(in RuleInput input)
    {
        var stats = input.Profile.Values;
        if (input.Event.Value is not { } value || stats.Count < MinEvents || stats.StdDev <= 0)
        {
            return null;
        }

        var z = stats.ZScore(value);
        return Math.Abs(z) > Sigmas
            ? new Dictionary<string, AttributeValue>(StringComparer.Ordinal)
            {
                ["value"] = value,
                ["mean"] = stats.Mean,
                ["stddev"] = stats.StdDev,
                ["z"] = z,
                ["sigmas"] = Sigmas,
            }
            : null;
    }
}
