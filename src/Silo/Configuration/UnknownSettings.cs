using System.Collections;
using System.Reflection;

namespace StreamGrains.Silo.Configuration;

/// <summary>
/// Finds settings nobody reads: a key under <c>StreamGrains</c> that no option binds (a typo such as
/// <c>StreamGrains:Kafka:Partitons</c> would otherwise be ignored silently), and command-line switches that are a
/// letter or two away from a known one (<c>--partiton</c>). Names compare without regard to case, as the binder does.
/// </summary>
internal static class UnknownSettings
{
    /// <summary>Root keys the host itself reads; a command-line key close to one of them is taken for a typo too.</summary>
    private static readonly string[] HostKeys =
        ["urls", "environment", "contentRoot", "applicationName", "Logging", "ConnectionStrings", "Kestrel", "AllowedHosts", StreamGrainsOptions.SectionName];

    /// <summary>Every unknown setting, each as a message that names it (and the setting it is probably a typo of).</summary>
    /// <param name="configuration">The whole configuration.</param>
    /// <param name="commandLineRootKeys">The root keys given on the command line (switches as they arrived).</param>
    public static IReadOnlyList<string> Find(IConfiguration configuration, IEnumerable<string> commandLineRootKeys)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var errors = new List<string>();
        Walk(configuration.GetSection(StreamGrainsOptions.SectionName), typeof(StreamGrainsOptions), StreamGrainsOptions.SectionName, errors);

        var switches = CommandLineSwitches.Mappings.Keys.Select(k => k.TrimStart('-')).ToList();
        foreach (var key in commandLineRootKeys.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (switches.Contains(key, StringComparer.OrdinalIgnoreCase) || HostKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            if (Closest(key, switches) is { } sw)
            {
                errors.Add($"--{key}: no such switch; did you mean --{sw}?");
            }
            else if (Closest(key, HostKeys) is { } root)
            {
                errors.Add($"{key}: no such setting; did you mean {root}?");
            }
        }

        return errors;
    }

    private static void Walk(IConfigurationSection section, Type type, string path, List<string> errors)
    {
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0).ToList();
        foreach (var child in section.GetChildren())
        {
            var childPath = $"{path}:{child.Key}";
            var property = properties.FirstOrDefault(p => string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase) && (p.CanWrite || IsCollection(p.PropertyType)));
            if (property is null)
            {
                var suggestion = Closest(child.Key, properties.Where(p => p.CanWrite || IsCollection(p.PropertyType)).Select(p => p.Name));
                errors.Add(suggestion is null
                    ? $"{childPath}: no such setting."
                    : $"{childPath}: no such setting; did you mean {path}:{suggestion}?");
                continue;
            }

            CheckValue(child, property.PropertyType, childPath, errors);
        }
    }

    private static void CheckValue(IConfigurationSection section, Type type, string path, List<string> errors)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (DictionaryValueType(type) is { } valueType)
        {
            foreach (var entry in section.GetChildren())
            {
                CheckValue(entry, valueType, $"{path}:{entry.Key}", errors);
            }
        }
        else if (ListElementType(type) is { } elementType)
        {
            foreach (var item in section.GetChildren())
            {
                if (!int.TryParse(item.Key, out _))
                {
                    errors.Add($"{path}:{item.Key}: a list takes items :0, :1, ...");
                    continue;
                }

                CheckValue(item, elementType, $"{path}:{item.Key}", errors);
            }
        }
        else if (IsScalar(type))
        {
            foreach (var extra in section.GetChildren())
            {
                errors.Add($"{path}:{extra.Key}: no such setting; {path} takes a single value.");
            }
        }
        else
        {
            Walk(section, type, path, errors);
        }
    }

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan) ||
        type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(Uri) || type == typeof(Guid);

    private static bool IsCollection(Type type) => DictionaryValueType(type) is not null || ListElementType(type) is not null;

    private static Type? DictionaryValueType(Type type) =>
        type.IsGenericType && type.GetGenericArguments() is [var key, var value] && key == typeof(string) &&
        typeof(IDictionary).IsAssignableFrom(type) ? value : null;

    private static Type? ListElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        return type != typeof(string) && type.IsGenericType && type.GetGenericArguments() is [var element] &&
               typeof(IEnumerable).IsAssignableFrom(type) ? element : null;
    }

    /// <summary>The candidate at most two edits away from <paramref name="key"/> (the nearest), if any.</summary>
    internal static string? Closest(string key, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var distance = Distance(key.ToUpperInvariant(), candidate.ToUpperInvariant());
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        return bestDistance <= Math.Min(2, Math.Max(1, key.Length / 3)) ? best : null;
    }

    /// <summary>Levenshtein distance, with a swap of two neighbours counting as one edit.</summary>
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
