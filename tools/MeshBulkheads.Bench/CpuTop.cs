using Microsoft.Diagnostics.Tracing.Etlx;

namespace MeshBulkheads.Bench;

/// <summary>
/// <c>cpu-top &lt;trace.nettrace&gt; [n]</c>: where a <c>dotnet-trace collect</c> thread-time trace (the sample
/// profiler, about 100 stacks per second per thread) spent its busy samples, as JSON: the top methods by
/// exclusive samples (the leaf frame) and the top MeshBulkheads methods by inclusive samples (anywhere on the
/// stack; each of our middlewares' share including what it calls). Samples of threads that wait (thread-pool
/// semaphores, monitors, sleeps, the socket engine's epoll wait, the finalizer, a worker idle in native code) are dropped first: thread time
/// counts them, CPU does not. Shares are of the busy samples.
/// </summary>
internal static class CpuTop
{
    private static readonly string[] WaitFrames =
    [
        "WaitHandle.Wait", "Monitor.Wait", "LowLevelLifoSemaphore.Wait", "LowLevelSpinWaiter.Wait", "Thread.Sleep",
        "SocketAsyncEngine.EventLoop", "Interop+Sys.WaitForSocketEvents", "Interop+Sys.Read(", "GC.RunFinalizers",
        "ManualResetEventSlim.Wait", "SemaphoreSlim.Wait", "Task.SpinThenBlockingWait", "Thread.Join",
        "LowLevelMonitor.Wait", "TimerQueue.TimerThread", "ConsoleLoggerProcessor.TryDequeue", "BlockingCollection",
    ];

    public static int Run(string[] args) => TraceCommand.Run(args, "cpu-top", Report);

    /// <summary>The report of the trace at <paramref name="path"/> with the top <paramref name="n"/> methods of each list.</summary>
    public static CpuReport Report(string path, int n)
    {
        var etlx = TraceLog.CreateFromEventPipeDataFile(path);
        var exclusive = new Dictionary<string, int>(StringComparer.Ordinal);
        var inclusive = new Dictionary<string, int>(StringComparer.Ordinal);
        var callers = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        int total = 0, busy = 0;
        using (var log = new TraceLog(etlx))
        {
            foreach (var e in log.Events)
            {
                if (e.ProviderName != "Microsoft-DotNETCore-SampleProfiler" || e.CallStack() is not { } stack)
                {
                    continue;
                }

                total++;
                var frames = new List<string>();
                for (var frame = stack; frame is not null; frame = frame.Caller)
                {
                    frames.Add(frame.CodeAddress.FullMethodName is { Length: > 0 } name ? name : frame.CodeAddress.ModuleName + "!?");
                }

                // A worker thread's stack that ends in WorkerThreadStart is in native code under it: the pool's semaphore wait.
                if (frames[0].Contains("WorkerThreadStart", StringComparison.Ordinal) || frames.Any(f => WaitFrames.Any(w => f.Contains(w, StringComparison.Ordinal))))
                {
                    continue;
                }

                busy++;
                // A running thread is often caught at a GC poll (where the sampler can stop it): the work is its caller.
                var leafIndex = frames.FindIndex(f => !f.Contains("PollGC", StringComparison.Ordinal));
                var leaf = Short(frames[leafIndex < 0 ? 0 : leafIndex]);
                exclusive[leaf] = exclusive.GetValueOrDefault(leaf) + 1;
                // The nearest caller outside the runtime's own plumbing says whose time it is (e.g. whose lock).
                var caller = frames.Skip(Math.Max(leafIndex, 0) + 1).Select(Short).FirstOrDefault(f => f != leaf && !f.StartsWith("System.Threading.Monitor", StringComparison.Ordinal)
                    && !f.StartsWith("System.Threading.Lock", StringComparison.Ordinal) && !f.StartsWith("System.Runtime.CompilerServices", StringComparison.Ordinal)) ?? "?";
                var byCaller = callers.TryGetValue(leaf, out var known) ? known : callers[leaf] = new Dictionary<string, int>(StringComparer.Ordinal);
                byCaller[caller] = byCaller.GetValueOrDefault(caller) + 1;
                foreach (var ours in frames.Where(f => f.StartsWith("MeshBulkheads.", StringComparison.Ordinal)).Select(Short).Distinct())
                {
                    inclusive[ours] = inclusive.GetValueOrDefault(ours) + 1;
                }
            }
        }

        File.Delete(etlx);
        List<SampledMethod> Top(Dictionary<string, int> counts) => [.. counts.OrderByDescending(kv => kv.Value).Take(n)
            .Select(kv => new SampledMethod(
                kv.Key,
                kv.Value,
                busy == 0 ? 0 : (double)kv.Value / busy,
                callers.TryGetValue(kv.Key, out var c) ? [.. c.OrderByDescending(x => x.Value).Take(2).Select(x => x.Key)] : []))];
        return new CpuReport(total, busy, Top(exclusive), Top(inclusive));
    }

    /// <summary>The method without its parameter list (<c>Type.Method</c>), short enough for a table.</summary>
    private static string Short(string method) => method.IndexOf('(', StringComparison.Ordinal) is var paren and > 0 ? method[..paren] : method;
}

/// <summary>What <see cref="CpuTop"/> reports.</summary>
internal sealed record CpuReport(
    int Samples,
    int BusySamples,
    IReadOnlyList<SampledMethod> Exclusive,
    IReadOnlyList<SampledMethod> OursInclusive);

/// <summary>One method of a <see cref="CpuReport"/> list; <c>calledFrom</c> only for exclusive entries (whose lock, whose wait).</summary>
internal sealed record SampledMethod(
    string Method,
    int Samples,
    double Share,
    IReadOnlyList<string> CalledFrom);
