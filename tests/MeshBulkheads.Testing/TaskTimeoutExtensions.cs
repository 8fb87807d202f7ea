using System.Diagnostics;

namespace MeshBulkheads.Testing;

/// <summary>Every await in a test is bounded, so a hang fails fast with a clear message (aspnetcore's DefaultTimeout).</summary>
public static class TaskTimeoutExtensions
{
    public static TimeSpan DefaultTimeoutSpan { get; } = Debugger.IsAttached ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(30);

    public static Task DefaultTimeout(this Task task) => task.WaitAsync(DefaultTimeoutSpan);

    public static Task<T> DefaultTimeout<T>(this Task<T> task) => task.WaitAsync(DefaultTimeoutSpan);

    public static Task DefaultTimeout(this ValueTask task) => task.AsTask().WaitAsync(DefaultTimeoutSpan);

    public static Task<T> DefaultTimeout<T>(this ValueTask<T> task) => task.AsTask().WaitAsync(DefaultTimeoutSpan);
}
