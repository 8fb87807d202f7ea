using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Runtime.CompilerServices;
using Microsoft.Diagnostics.NETCore.Client;
using static MeshBulkheads.Testing.TestCancellation;

namespace MeshBulkheads.Bench.Tests;

/// <summary>
/// alloc-top and cpu-top on a real trace: this test process traced through its own diagnostics port (what
/// dotnet-trace does) while it allocates one distinctive type and burns CPU in one distinctive method. Alone: the
/// trace is of the whole process, so another test class running beside it would be in the samples.
/// </summary>
[Collection(nameof(ProfileReportTests))]
public class ProfileReportTests
{
    [Fact]
    public async Task AllocationTop_TraceOfAProcessAllocatingOneTypeHeavily_ThatTypeOnTopWithItsAllocatingMethod()
    {
        // Arrange
        var trace = await TraceAsync(
            new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Verbose, keywords: 0x1),
            () => AllocateMarkers(TimeSpan.FromSeconds(1.5)));

        // Act
        var report = AllocationTop.Report(trace, 5);
        File.Delete(trace);

        // Assert
        var top = report.Top[0];
        Assert.True(report.Samples > 100, $"{report.Samples} allocation samples");
        // The runtime names a nested type by its own name.
        Assert.Equal(nameof(Marker), top.Type);
        Assert.True(top.Share > 0.5, $"{top.Type} has {top.Share:P0} of the sampled bytes");
        Assert.Contains(top.AllocatedBy, site => site.EndsWith(nameof(AllocateMarkers), StringComparison.Ordinal));
    }

    [Fact]
    public async Task CpuTop_TraceOfAProcessBurningOneMethod_ThatMethodLeadsTheBusySamplesAndWaitsAreDropped()
    {
        // Arrange
        var trace = await TraceAsync(
            new EventPipeProvider("Microsoft-DotNETCore-SampleProfiler", EventLevel.Informational),
            () => BurnCpu(TimeSpan.FromSeconds(2)));

        // Act
        var report = CpuTop.Report(trace, 10);
        File.Delete(trace);

        // Assert: the burning thread is busy; the idle ones (thread-pool waits, the test runner's) are not counted.
        Assert.True(report.BusySamples >= 20, $"{report.BusySamples} busy of {report.Samples} samples");
        Assert.True(report.BusySamples < report.Samples, "waiting samples were dropped");
        var burn = Assert.Single(report.OursInclusive, m => m.Method.EndsWith(nameof(BurnCpu), StringComparison.Ordinal));
        Assert.True(burn.Share > 0.3, $"{burn.Method} has {burn.Share:P0} of the busy samples");
        // The top leaf is the burn itself, or what it calls where the sampler caught it (Stopwatch), named with its caller.
        var top = report.Exclusive[0];
        Assert.True(
            top.Method.EndsWith(nameof(BurnCpu), StringComparison.Ordinal) || top.Method.EndsWith(nameof(Step), StringComparison.Ordinal)
                || top.CalledFrom.Any(c => c.EndsWith(nameof(BurnCpu), StringComparison.Ordinal) || c.EndsWith(nameof(Step), StringComparison.Ordinal)),
            $"top busy leaf {top.Method} (from {string.Join(", ", top.CalledFrom)})");
        Assert.DoesNotContain(report.Exclusive, m => m.Method.Contains("WaitForSignal", StringComparison.Ordinal) || m.Method.Contains("Monitor.Wait", StringComparison.Ordinal));
    }

    /// <summary>Traces this process with <paramref name="provider"/> (plus rundown, for method names) while <paramref name="work"/> runs.</summary>
    private static async Task<string> TraceAsync(EventPipeProvider provider, Action work)
    {
        var path = Path.Combine(Path.GetTempPath(), $"meshbulkheads-{Guid.NewGuid():N}.nettrace");
        var client = new DiagnosticsClient(Environment.ProcessId);
        using var session = client.StartEventPipeSession([provider], requestRundown: true);
        await using var file = File.Create(path);
        var copy = session.EventStream.CopyToAsync(file, Ct);
        // On a thread of its own, not a pool worker: its stack is only the work (no pool frames, no waits).
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            work();
            done.SetResult();
        }) { IsBackground = true, Name = "profiled work" };
        thread.Start();
        await done.Task.WaitAsync(Ct);
        await session.StopAsync(Ct);
        await copy.DefaultTimeout();
        return path;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AllocateMarkers(TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        var keep = new Marker[1024];
        for (var i = 0; clock.Elapsed < duration; i++)
        {
            keep[i % keep.Length] = new Marker(i);
        }

        GC.KeepAlive(keep);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void BurnCpu(TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        var x = 1UL;
        while (clock.Elapsed < duration)
        {
            x = Step(x);
        }

        GC.KeepAlive(x);
    }

    // A call per chunk of work: the sample profiler takes a thread's stack at a safe point.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong Step(ulong x)
    {
        for (var i = 0; i < 1_000; i++)
        {
            x = (x * 6364136223846793005UL) + 1442695040888963407UL;
        }

        return x;
    }

    private sealed record Marker(long Value)
    {
        public long A { get; } = Value + 1;

        public long B { get; } = Value + 2;
    }
}

/// <summary>Runs <see cref="ProfileReportTests"/> with no other test in parallel.</summary>
[CollectionDefinition(nameof(ProfileReportTests), DisableParallelization = true)]
public sealed class ProfileReportCollection;
