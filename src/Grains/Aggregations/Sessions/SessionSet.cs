namespace StreamGrains.Aggregations.Sessions;

/// <summary>
/// The open sessions of one key. A session (or event) within the gap of open sessions merges them into one, as Kafka
/// Streams' session windows do, so out-of-order events join the session they belong to. With a maximum duration, a
/// session is cut into parts by event time alone: the first part holds the events up to its first event plus the
/// maximum duration, the next part starts at the next event, and so on, so the cut does not depend on the order or the
/// reads in which the events came (the session keeps its events' times and types for that).
/// </summary>
[GenerateSerializer, Alias("sg.session-set")]
public sealed class SessionSet
{
    [Id(0)] private readonly List<SessionAggregate> _open = [];

    /// <summary>The open sessions, by start.</summary>
    public IReadOnlyList<SessionAggregate> Open => _open;

    /// <summary>Takes a session (of one event or more) in, merging it with the open sessions it touches.</summary>
    /// <param name="session">The session.</param>
    /// <param name="spec">The window's gap and maximum duration.</param>
    public void Add(SessionAggregate session, Windows.WindowSpec spec)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(spec);
        var merged = session;
        for (var i = 0; i < _open.Count;)
        {
            var open = _open[i];
            if (open.Touches(merged, spec.GapMs))
            {
                _open.RemoveAt(i);
                open.Merge(merged);
                merged = open;
                i = 0; // the grown session may now touch one it did not before
            }
            else
            {
                i++;
            }
        }

        var at = _open.FindIndex(s => s.Start > merged.Start);
        _open.Insert(at < 0 ? _open.Count : at, merged);
    }

    /// <summary>
    /// Removes and returns the sessions (and parts of sessions) that <paramref name="watermarkMs"/> closes: a session once
    /// the watermark passed its last event by the gap and the lateness, a part once it passed the part's first event by
    /// the maximum duration and the lateness.
    /// </summary>
    /// <param name="watermarkMs">The key's watermark.</param>
    /// <param name="spec">The window's gap and maximum duration.</param>
    /// <param name="latenessMs">The allowed lateness.</param>
    /// <param name="closed">Receives the closed sessions, by start.</param>
    public void Close(long watermarkMs, Windows.WindowSpec spec, long latenessMs, List<SessionAggregate> closed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(closed);
        for (var i = 0; i < _open.Count;)
        {
            var session = _open[i];
            while (spec.MaxDurationMs > 0 && session.Start + spec.MaxDurationMs + latenessMs <= watermarkMs && session.End > session.Start + spec.MaxDurationMs)
            {
                var part = session.CutUntil(session.Start + spec.MaxDurationMs)!;
                part.JoinableUntil = Math.Min(part.End + spec.GapMs, part.Start + spec.MaxDurationMs);
                closed.Add(part);
            }

            var reachedMax = spec.MaxDurationMs > 0 && session.Start + spec.MaxDurationMs + latenessMs <= watermarkMs;
            if (session.End + spec.GapMs + latenessMs <= watermarkMs || reachedMax)
            {
                session.JoinableUntil = spec.MaxDurationMs > 0 ? Math.Min(session.End + spec.GapMs, session.Start + spec.MaxDurationMs) : session.End + spec.GapMs;
                closed.Add(session);
                _open.RemoveAt(i);
            }
            else
            {
                i++;
            }
        }
    }

    /// <summary>When the next part or session of this key closes, at the earliest (long.MaxValue: nothing open).</summary>
    /// <param name="spec">The window's gap and maximum duration.</param>
    /// <param name="latenessMs">The allowed lateness.</param>
    public long NextClose(Windows.WindowSpec spec, long latenessMs)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var next = long.MaxValue;
        foreach (var session in _open)
        {
            next = Math.Min(next, session.End + spec.GapMs + latenessMs);
            if (spec.MaxDurationMs > 0)
            {
                next = Math.Min(next, session.Start + spec.MaxDurationMs + latenessMs);
            }
        }

        return next;
    }
}
