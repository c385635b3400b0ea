using StreamGrains.Aggregations.Windows;
using StreamGrains.Rules;

namespace StreamGrains.Aggregations;

/// <summary>Turns configured aggregations into <see cref="AggregationDefinition"/>s, naming every setting that is missing or wrong.</summary>
public static class AggregationCompiler
{
    /// <summary>The names under <c>StreamGrains:Aggregations</c> that are settings, not aggregations.</summary>
    public static IReadOnlySet<string> ReservedNames { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        nameof(AggregationLimits.IdleTimeout),
        nameof(AggregationLimits.MaxFutureSkew),
        nameof(AggregationLimits.Shards),
        nameof(AggregationLimits.CheckpointInterval),
    };

    /// <summary>Compiles every aggregation, in name order.</summary>
    /// <param name="aggregations">The aggregations by name.</param>
    /// <param name="sectionPath">Their configuration path, e.g. <c>StreamGrains:Aggregations</c>.</param>
    /// <param name="errors">Where each problem goes, naming its setting.</param>
    public static IReadOnlyList<AggregationDefinition> Compile(IReadOnlyDictionary<string, AggregationSettings> aggregations, string sectionPath, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(aggregations);
        ArgumentNullException.ThrowIfNull(errors);
        var compiled = new List<AggregationDefinition>(aggregations.Count);
        foreach (var (name, settings) in aggregations.Where(a => !ReservedNames.Contains(a.Key)).OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            if (Compile(name, settings, $"{sectionPath}:{name}", errors) is { } definition)
            {
                compiled.Add(definition);
            }
        }

        return compiled;
    }

    /// <summary>Compiles one aggregation, or adds its problems to <paramref name="errors"/> and returns null.</summary>
    /// <param name="name">Its name.</param>
    /// <param name="settings">Its settings.</param>
    /// <param name="path">Its configuration path.</param>
    /// <param name="errors">Where each problem goes.</param>
    public static AggregationDefinition? Compile(string name, AggregationSettings settings, string path, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(errors);
        var before = errors.Count;
        if (name.Length == 0 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
        {
            errors.Add($"{path}: an aggregation's name may hold letters, digits, '-', '_' and '.' only (it is part of URLs and grain keys).");
        }

        var window = settings.Window ?? new WindowSettings();
        WindowSpec? spec = null;
        if (string.IsNullOrWhiteSpace(window.Kind) || !Enum.TryParse<WindowKind>(window.Kind, ignoreCase: true, out var kind) || !Enum.IsDefined(kind))
        {
            errors.Add($"{path}:Window:Kind: {(string.IsNullOrWhiteSpace(window.Kind) ? "required" : $"'{window.Kind}' is not a window kind")}; one of {string.Join(", ", Enum.GetNames<WindowKind>())}.");
        }
        else
        {
            spec = kind switch
            {
                WindowKind.Tumbling => Positive(window.Size, $"{path}:Window:Size", errors) is { } size ? WindowSpec.Tumbling(size) : null,
                WindowKind.Hopping => Hopping(window, path, errors),
                WindowKind.Sliding => Positive(window.Size, $"{path}:Window:Size", errors) is { } difference ? WindowSpec.Sliding(difference) : null,
                _ => Session(window, path, errors),
            };
        }

        var group = GroupKind.Entity;
        string? attribute = null;
        var groupBy = settings.GroupBy?.Trim() ?? "entity";
        if (groupBy == AggregationDefinition.GlobalKey)
        {
            group = GroupKind.Global;
        }
        else if (groupBy.StartsWith(RuleCompiler.AttributePrefix, StringComparison.Ordinal) && groupBy.Length > RuleCompiler.AttributePrefix.Length)
        {
            group = GroupKind.Attribute;
            attribute = groupBy[RuleCompiler.AttributePrefix.Length..];
        }
        else if (!string.Equals(groupBy, "entity", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"{path}:GroupBy: '{settings.GroupBy}' is not a grouping; 'entity', 'attrs.<name>' or '*'.");
        }

        if (settings.AllowedLateness < TimeSpan.Zero)
        {
            errors.Add($"{path}:AllowedLateness: must not be negative, was {settings.AllowedLateness}.");
        }

        if (settings.Retention <= TimeSpan.Zero)
        {
            errors.Add($"{path}:Retention: must be positive, was {settings.Retention}.");
        }

        if (errors.Count > before || spec is null)
        {
            return null;
        }

        var types = new HashSet<string>(settings.EventTypes.Where(t => !string.IsNullOrWhiteSpace(t)), StringComparer.Ordinal);
        return new AggregationDefinition(name, types, group, attribute, spec, (long)settings.AllowedLateness.TotalMilliseconds, (long)settings.Retention.TotalMilliseconds);
    }

    private static WindowSpec? Hopping(WindowSettings window, string path, List<string> errors)
    {
        var size = Positive(window.Size, $"{path}:Window:Size", errors);
        var advance = Positive(window.Advance, $"{path}:Window:Advance", errors);
        if (size is null || advance is null)
        {
            return null;
        }

        if (advance > size)
        {
            errors.Add($"{path}:Window:Advance: must not exceed Window:Size ({size}), was {advance}.");
            return null;
        }

        return WindowSpec.Hopping(size.Value, advance.Value);
    }

    private static WindowSpec? Session(WindowSettings window, string path, List<string> errors)
    {
        var gap = Positive(window.Gap, $"{path}:Window:Gap", errors);
        if (window.MaxDuration is { } max && max <= TimeSpan.Zero)
        {
            errors.Add($"{path}:Window:MaxDuration: must be positive when set, was {max}.");
            return null;
        }

        if (gap is not null && window.MaxDuration is { } longest && longest < gap)
        {
            errors.Add($"{path}:Window:MaxDuration: must be at least Window:Gap ({gap}), was {longest}.");
            return null;
        }

        return gap is null ? null : WindowSpec.Session(gap.Value, window.MaxDuration);
    }

    private static TimeSpan? Positive(TimeSpan? value, string path, List<string> errors)
    {
        if (value is not { } span)
        {
            errors.Add($"{path}: required (a time span, e.g. 00:01:00).");
            return null;
        }

        if (span < TimeSpan.FromMilliseconds(1))
        {
            errors.Add($"{path}: must be at least one millisecond, was {span}.");
            return null;
        }

        return span;
    }
}
