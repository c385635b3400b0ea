using System.Diagnostics;

namespace StreamGrains.Silo.Hosting;

/// <summary>
/// The system clock with timestamps counted from when this clock was made rather than from boot: elapsed times are the
/// same, and a timestamp read before it was ever set (0) looks like the time since start-up, not the machine's uptime.
/// </summary>
internal sealed class ProcessClock : TimeProvider
{
    private readonly long _origin = Stopwatch.GetTimestamp();

    public override long GetTimestamp() => Stopwatch.GetTimestamp() - _origin;
}
