using StreamGrains.Outputs;

namespace StreamGrains.Grains.Tests.Outputs;

public sealed class UnacknowledgedOutputsTests
{
    [Fact]
    public async Task Nothing_sent_is_nothing_to_wait_for()
    {
        var outputs = new UnacknowledgedOutputs();
        Assert.True(await outputs.WaitAsync(TimeSpan.Zero, CancellationToken.None));
    }

    [Fact]
    public async Task A_wait_ends_when_the_last_record_is_acknowledged_and_not_before()
    {
        var outputs = new UnacknowledgedOutputs();
        outputs.Sent();
        outputs.Sent();
        var waiting = outputs.WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        outputs.Acknowledged();
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);
        outputs.Acknowledged();
        Assert.True(await waiting);
        Assert.Equal(0, outputs.Count);
    }

    [Fact]
    public async Task A_wait_that_times_out_says_so_and_a_later_wait_still_sees_the_acknowledgement()
    {
        var outputs = new UnacknowledgedOutputs();
        outputs.Sent();
        Assert.False(await outputs.WaitAsync(TimeSpan.FromMilliseconds(20), CancellationToken.None));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        Assert.False(await outputs.WaitAsync(TimeSpan.FromSeconds(30), cancelled.Token));

        var waiting = outputs.WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        outputs.Acknowledged();
        Assert.True(await waiting);

        // Drained once does not mean drained for good: a record sent afterwards is waited for again.
        outputs.Sent();
        Assert.False(await outputs.WaitAsync(TimeSpan.FromMilliseconds(20), CancellationToken.None));
        outputs.Acknowledged();
        Assert.True(await outputs.WaitAsync(TimeSpan.Zero, CancellationToken.None));
    }

    [Fact]
    public async Task Acknowledgements_racing_the_wait_from_other_threads_never_leave_it_hanging_or_end_it_early()
    {
        var outputs = new UnacknowledgedOutputs();
        for (var round = 0; round < 2_000; round++)
        {
            var records = 1 + (round % 7);
            for (var i = 0; i < records; i++)
            {
                outputs.Sent();
            }

            using var go = new ManualResetEventSlim();
            var acknowledging = Enumerable.Range(0, records).Select(_ => Task.Run(() =>
            {
                go.Wait();
                outputs.Acknowledged();
            })).ToArray();
            go.Set();
            var drained = await outputs.WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
            Assert.True(drained, $"round {round}: the wait timed out with {outputs.Count} left");
            Assert.Equal(0, outputs.Count);
            await Task.WhenAll(acknowledging);

            // Right after a drained wait, one unacknowledged record is waited for, not waved through.
            outputs.Sent();
            Assert.False(await outputs.WaitAsync(TimeSpan.Zero, CancellationToken.None));
            outputs.Acknowledged();
        }
    }
}
