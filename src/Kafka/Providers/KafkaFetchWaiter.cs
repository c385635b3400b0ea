using Confluent.Kafka;

namespace StreamGrains.Kafka.Providers;

/// <summary>
/// Waits for a partition's next record on a thread of its own, so that a read that finds nothing buffered can wait for
/// data instead of returning at once: the pulling agent then gets a record within a fetch of its arrival, with no
/// poll period in between, and an idle partition costs one blocked thread rather than fifty empty polls a second.
/// </summary>
/// <remarks>Only one wait is under way at a time, and the consumer is not used by anyone else meanwhile (the pulling agent reads sequentially).</remarks>
internal sealed class KafkaFetchWaiter : IDisposable
{
    private static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(250);
    private readonly Thread _thread;
    private readonly SemaphoreSlim _requested = new(0, 1);
    private readonly ManualResetEventSlim _idle = new(true);
    private IConsumer<byte[]?, byte[]?>? _consumer;
    private TimeSpan _wait;
    private CancellationToken _cancellation;
    private TaskCompletionSource<ConsumeResult<byte[]?, byte[]?>?>? _result;
    private volatile bool _disposed;

    public KafkaFetchWaiter(string name)
    {
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>The next record of <paramref name="consumer"/>, or null when none came within <paramref name="wait"/> or the wait was cancelled.</summary>
    public Task<ConsumeResult<byte[]?, byte[]?>?> ConsumeAsync(IConsumer<byte[]?, byte[]?> consumer, TimeSpan wait, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var result = new TaskCompletionSource<ConsumeResult<byte[]?, byte[]?>?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _consumer = consumer;
        _wait = wait;
        _cancellation = cancellationToken;
        _result = result;
        _idle.Reset();
        _requested.Release();
        return result.Task;
    }

    /// <summary>Waits until no wait is under way (the consumer may then be closed), for at most <paramref name="timeout"/>.</summary>
    public bool WaitUntilIdle(TimeSpan timeout) => _idle.Wait(timeout);

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_idle.Wait(TimeSpan.FromSeconds(5)))
        {
            _requested.Release(); // wakes the thread, which sees it is disposed and ends
        }
    }

    private void Run()
    {
        while (true)
        {
            _requested.Wait();
            if (_disposed && _result is null)
            {
                return;
            }

            var result = Interlocked.Exchange(ref _result, null);
            var consumer = _consumer!;
            try
            {
                var deadline = DateTime.UtcNow + _wait;
                ConsumeResult<byte[]?, byte[]?>? record = null;
                while (record is null && !_disposed && !_cancellation.IsCancellationRequested)
                {
                    var remaining = deadline - DateTime.UtcNow;
                    if (remaining <= TimeSpan.Zero)
                    {
                        break;
                    }

                    record = consumer.Consume(remaining < Slice ? remaining : Slice);
                }

                _idle.Set();
                result?.TrySetResult(record);
            }
            catch (Exception ex)
            {
                _idle.Set();
                result?.TrySetException(ex);
            }

            if (_disposed)
            {
                return;
            }
        }
    }
}
