using StreamGrains.Events;
using StreamGrains.Aggregations.Windows;

namespace StreamGrains.Aggregations;

/// <summary>A checked aggregation: which events it takes, how it keys them and how it cuts event time.</summary>
/// <param name="Name">Its name, the section's.</param>
/// <param name="EventTypes">The event types taken; empty: all.</param>
/// <param name="Group">What it groups by.</param>
/// <param name="GroupAttribute">For <see cref="GroupKind.Attribute"/>: the attribute's name.</param>
/// <param name="Window">The window.</param>
/// <param name="AllowedLatenessMs">How long after a window's end its events are still taken, in milliseconds.</param>
/// <param name="RetentionMs">How long final windows and closed sessions stay queryable, in milliseconds of event time.</param>
public sealed record AggregationDefinition(
    string Name,
    IReadOnlySet<string> EventTypes,
    GroupKind Group,
    string? GroupAttribute,
    WindowSpec Window,
    long AllowedLatenessMs,
    long RetentionMs)
{
    /// <summary>The key of the global group.</summary>
    public const string GlobalKey = "*";

    /// <summary>Whether the aggregation takes <paramref name="evt"/> at all.</summary>
    /// <param name="evt">The event.</param>
    public bool Takes(StreamEvent evt) => EventTypes.Count == 0 || EventTypes.Contains(evt.Type);

    /// <summary>The group key of <paramref name="evt"/>; null when it has no value for the grouping attribute.</summary>
    /// <param name="evt">The event.</param>
    public string? KeyOf(StreamEvent evt) => Group switch
    {
        GroupKind.Entity => evt.Entity,
        GroupKind.Global => GlobalKey,
        _ => evt.Attribute(GroupAttribute!),
    };

    /// <summary>Event time in milliseconds since the epoch, as windows count it.</summary>
    /// <param name="evt">The event.</param>
    public static long TimeOf(StreamEvent evt) => evt.Timestamp.ToUnixTimeMilliseconds();
}
