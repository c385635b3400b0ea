namespace StreamGrains.Storage.Archive;

/// <summary>How the event archive writes and keeps events.</summary>
public sealed class EventArchiveOptions
{
    /// <summary>A batch is written once it holds this many rows...</summary>
    public int BatchRows { get; set; } = 10_000;

    /// <summary>...or once its first row waited this long.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How many batches are written at once (over as many connections).</summary>
    public int Writers { get; set; } = 2;

    /// <summary>Rows read but not yet written, at most, on a silo: past it, reading waits for the archive.</summary>
    public int MaxPendingRows { get; set; } = 200_000;

    /// <summary>How long events stay in the archive (by event time); zero keeps them for ever.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often old events are deleted.</summary>
    public TimeSpan RetentionCheckInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long to wait before writing a failed batch again (doubling up to ten times this).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);
}
