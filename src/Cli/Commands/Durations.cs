using System.Globalization;

namespace StreamGrains.Cli.Commands;

/// <summary>Durations as people type them: <c>500ms</c>, <c>30s</c>, <c>2m</c>, <c>1h</c>, or <c>00:00:30</c>.</summary>
internal static class Durations
{
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        text = text.Trim();
        (string Suffix, double Seconds)[] units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)];
        foreach (var (suffix, seconds) in units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                && value > 0 && double.IsFinite(value))
            {
                duration = TimeSpan.FromSeconds(value * seconds);
                return true;
            }
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out duration) && duration > TimeSpan.Zero;
    }
}
