namespace MeshBulkheads.Testing;

/// <summary>Waiting for state another thread changes, where the code under test has no notification to await.</summary>
public static class Conditions
{
    /// <summary>
    /// Polls <paramref name="condition"/> until it holds; bounded by <see cref="TaskTimeoutExtensions.DefaultTimeoutSpan"/>
    /// and the test's cancellation. It asserts nothing by itself: the test asserts what it waited for.
    /// </summary>
    /// <param name="condition">Read on the polling thread; must be safe to call concurrently with the code under test.</param>
    /// <param name="pollInterval">How often to look; 10 ms when null.</param>
    /// <exception cref="TimeoutException">The condition did not hold in time.</exception>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan? pollInterval = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var interval = pollInterval ?? TimeSpan.FromMilliseconds(10);
        var timeout = Task.Delay(TaskTimeoutExtensions.DefaultTimeoutSpan, TestContext.Current.CancellationToken);
        while (!condition())
        {
            if (timeout.IsCompleted)
            {
                throw new TimeoutException("The condition did not become true in time.");
            }

            await Task.Delay(interval, TestContext.Current.CancellationToken);
        }
    }
}
