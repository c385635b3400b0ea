namespace StreamGrains.Profiles;

/// <summary>The last few distinct values of each attribute of an entity, most recent last, capped both ways.</summary>
[GenerateSerializer, Alias("sg.recent-values")]
public sealed class RecentValues
{
    /// <summary>Distinct values kept per attribute.</summary>
    public const int ValuesPerAttribute = 8;

    /// <summary>Attributes kept; the values of attributes beyond these are not remembered.</summary>
    public const int MaxAttributes = 32;

    [Id(0)] private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);

    /// <summary>The values by attribute.</summary>
    public IReadOnlyDictionary<string, List<string>> Values => _values;

    /// <summary>Remembers that <paramref name="attribute"/> took <paramref name="value"/> (moving it to the end if known).</summary>
    /// <param name="attribute">The attribute.</param>
    /// <param name="value">Its value as text.</param>
    public void Add(string attribute, string value)
    {
        if (!_values.TryGetValue(attribute, out var list))
        {
            if (_values.Count >= MaxAttributes)
            {
                return;
            }

            _values[attribute] = list = new List<string>(2);
        }

        var index = list.IndexOf(value);
        if (index == list.Count - 1 && index >= 0)
        {
            return;
        }

        if (index >= 0)
        {
            list.RemoveAt(index);
        }
        else if (list.Count >= ValuesPerAttribute)
        {
            list.RemoveAt(0);
        }

        list.Add(value);
    }
}
