using MeshBulkheads.LoadGen.Running;
using Microsoft.Extensions.Time.Testing;

namespace MeshBulkheads.LoadGen.Tests.Running;

public class OpenLoopScheduleTests
{
    [Fact]
    public async Task RunAsync_CallsNeverComplete_IssuesOnScheduleAnyway()
    {
        // Arrange: 10 calls/s for 1 s; "issuing" starts a call that never completes (a server that hangs).
        var time = new TimerCountingTimeProvider();
        var schedule = new OpenLoopSchedule(time, rate: 10, TimeSpan.FromSeconds(1));
        var issued = new List<(long Sequence, long Intended, long At)>();
        var hanging = new TaskCompletionSource();
        var start = time.GetTimestamp();

        // Act
        var run = schedule.RunAsync(start, (sequence, intended) =>
        {
            lock (issued)
            {
                issued.Add((sequence, intended, time.GetTimestamp()));
            }

            _ = hanging.Task;
        }, TestContext.Current.CancellationToken);
        for (var step = 1; step < 10; step++)
        {
            // Advance only once the loop sleeps on its timer, so each tick lands on a waiting schedule.
            await WaitForAsync(() => time.TimersCreated >= step);
            time.Advance(TimeSpan.FromMilliseconds(100));
            await WaitForAsync(() => Count(issued) == step + 1);
        }

        await run.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        // Assert: 10 calls, call i intended at i × 100 ms, none waited for a response.
        Assert.Equal(10, schedule.TotalCalls);
        Assert.Equal(10, issued.Count);
        for (var i = 0; i < issued.Count; i++)
        {
            Assert.Equal(i, issued[i].Sequence);
            Assert.Equal(TimeSpan.FromMilliseconds(100 * i), time.GetElapsedTime(start, issued[i].Intended));
            Assert.Equal(issued[i].Intended, issued[i].At);
        }

        Assert.False(hanging.Task.IsCompleted);
    }

    [Fact]
    public async Task RunAsync_LoopWakesLate_IssuesEveryDueCallWithItsOwnIntendedTime()
    {
        // Arrange: 100 calls/s, and the clock jumps 500 ms at once (a GC pause, a busy core).
        var time = new TimerCountingTimeProvider();
        var schedule = new OpenLoopSchedule(time, rate: 100, TimeSpan.FromSeconds(1));
        var issued = new List<(long Intended, long At)>();
        var start = time.GetTimestamp();
        var run = schedule.RunAsync(start, (_, intended) =>
        {
            lock (issued)
            {
                issued.Add((intended, time.GetTimestamp()));
            }
        }, TestContext.Current.CancellationToken);
        await WaitForAsync(() => Count(issued) == 1 && time.TimersCreated == 1);

        // Act
        time.Advance(TimeSpan.FromMilliseconds(500));
        await WaitForAsync(() => Count(issued) == 51);

        // Assert: the catch-up calls keep their schedule's times, so latency will include the 500 ms slip
        // (no coordinated omission) and the lag is visible (now − intended).
        Assert.Equal(51, Count(issued));
        Assert.Equal(TimeSpan.FromMilliseconds(10), time.GetElapsedTime(start, issued[1].Intended));
        Assert.Equal(TimeSpan.FromMilliseconds(490), time.GetElapsedTime(issued[1].Intended, issued[1].At));
        Assert.Equal(TimeSpan.Zero, time.GetElapsedTime(issued[50].Intended, issued[50].At));
        Assert.False(run.IsCompleted);
    }

    [Fact]
    public void TotalCalls_FractionalRate_CountsCallsInsideTheDuration()
    {
        // Act
        var schedule = new OpenLoopSchedule(new FakeTimeProvider(), rate: 0.5, TimeSpan.FromSeconds(5));

        // Assert: intended at 0, 2 and 4 s.
        Assert.Equal(3, schedule.TotalCalls);
    }

    /// <summary>Counts timers, so a test advances the clock only while the schedule is asleep on one.</summary>
    private sealed class TimerCountingTimeProvider : FakeTimeProvider
    {
        private int _timers;

        public int TimersCreated => Volatile.Read(ref _timers);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            Interlocked.Increment(ref _timers);
            return timer;
        }
    }

    private static int Count<T>(List<T> list)
    {
        lock (list)
        {
            return list.Count;
        }
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        // The schedule's continuation runs on the thread pool after FakeTimeProvider fires its timer.
        var deadline = Environment.TickCount64 + 10_000;
        while (!condition())
        {
            Assert.True(Environment.TickCount64 < deadline, "condition not reached within 10 s");
            await Task.Yield();
        }
    }
}
