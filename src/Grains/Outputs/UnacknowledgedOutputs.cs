namespace StreamGrains.Outputs;

/// <summary>
/// The records a grain handed to an output (decisions, enriched events, final windows) that the output has not yet seen
/// acknowledged (by Kafka, or by the table they go to). A grain waits for none to be left before it writes the state that
/// covers the events they came from: once written, those events are behind the grain and a crash never repeats them, so
/// what they produced must be safe first. Kafka Streams flushes its producer before it commits for the same reason.
/// </summary>
/// <remarks>
/// One per grain activation. <see cref="Sent"/> is called on the grain's turn, <see cref="Acknowledged"/> from the
/// output's own threads; a failed delivery that will not be retried counts as acknowledged (it is counted and logged
/// where it failed, and waiting for it would stop the grain for good).
/// </remarks>
public sealed class UnacknowledgedOutputs
{
    private int _count;
    private TaskCompletionSource? _drained;

    /// <summary>Records sent and not yet acknowledged.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Records that a record was handed to the output; call before handing it over.</summary>
    public void Sent() => Interlocked.Increment(ref _count);

    /// <summary>Records that the output acknowledged (or gave up on) one record.</summary>
    public void Acknowledged()
    {
        if (Interlocked.Decrement(ref _count) <= 0)
        {
            Interlocked.Exchange(ref _drained, null)?.TrySetResult();
        }
    }

    /// <summary>
    /// Waits until every record sent so far is acknowledged, at most <paramref name="timeout"/>. Records sent while it
    /// waits are waited for too: call it when the grain sends nothing more (on its own turn).
    /// </summary>
    /// <param name="timeout">How long to wait at most.</param>
    /// <param name="cancellationToken">Ends the wait early (as not acknowledged).</param>
    /// <returns>True when nothing is left unacknowledged; false on time-out or cancellation.</returns>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = timeout == Timeout.InfiniteTimeSpan ? (long?)null : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (Count > 0)
        {
            // The signal says the count reached zero at some moment; a record sent since keeps the loop going.
            var left = deadline is { } d ? TimeSpan.FromMilliseconds(Math.Max(0, d - Environment.TickCount64)) : Timeout.InfiniteTimeSpan;
            if (!await WaitForZeroAsync(left, cancellationToken))
            {
                return Count <= 0;
            }
        }

        return true;
    }

    private async Task<bool> WaitForZeroAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        TaskCompletionSource drained;
        while (true)
        {
            var current = Volatile.Read(ref _drained);
            if (current is { Task.IsCompleted: false })
            {
                drained = current; // an earlier wait timed out; its waiter is still in place
                break;
            }

            var fresh = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (Interlocked.CompareExchange(ref _drained, fresh, current) == current)
            {
                drained = fresh;
                break;
            }
        }

        if (Count <= 0)
        {
            // The last acknowledgement came before the waiter was in place.
            Interlocked.CompareExchange(ref _drained, null, drained);
            drained.TrySetResult();
        }

        try
        {
            await drained.Task.WaitAsync(timeout, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            return false;
        }
    }
}
