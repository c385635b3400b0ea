using System.Collections;
using System.Globalization;
using System.Text;

namespace StreamGrains.Kafka.Diagnostics;

/// <summary>
/// A log scope of named values. Structured for those who read scopes as key/value pairs (OpenTelemetry, the JSON
/// console formatter), and written out as <c>topic=events partition=7</c> for those who print a scope as text (the
/// simple console formatter), instead of the type name a dictionary prints.
/// </summary>
internal sealed class KafkaLogScope : IReadOnlyList<KeyValuePair<string, object?>>
{
    private readonly KeyValuePair<string, object?>[] _values;
    private string? _text;

    public KafkaLogScope(params KeyValuePair<string, object?>[] values) => _values = values;

    public int Count => _values.Length;

    public KeyValuePair<string, object?> this[int index] => _values[index];

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_values).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString()
    {
        if (_text is null)
        {
            var text = new StringBuilder();
            foreach (var (key, value) in _values)
            {
                if (value is null)
                {
                    continue;
                }

                if (text.Length > 0)
                {
                    text.Append(' ');
                }

                text.Append(key).Append('=').Append(Convert.ToString(value, CultureInfo.InvariantCulture));
            }

            _text = text.ToString();
        }

        return _text;
    }
}
