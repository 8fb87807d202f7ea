using System.Collections.Concurrent;
using System.Threading.Channels;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Contracts.Render.V1;

namespace MeshBulkheads.Render.Tests.Budget;

public class TenantWorkBudgetHostTests
{
    // The test's "maximal" render: Render:Max* scaled down to 256 × 256 × 200 = 13,107,200 work units.
    private static readonly RenderRequest Maximal = new() { Width = 256, Height = 256, Iterations = 200 };
    private static readonly RenderRequest Small = new() { Width = 32, Height = 32, Iterations = 20 };

    [Fact]
    public async Task Render_TenantSendsOneMaximalRenderPerSecond_OtherTenantsSmallRendersKeep99PercentSuccess()
    {
        // Arrange: 2 workers, no queue; tenant A's budget refills one maximal render every 4 s (fake time).
        // A's renders are held on the worker for 2 ticks, as a long render would be. The share is 1, so only
        // the work budget stands between A and both workers.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var observer = new HoldMaximalObserver();
        await using var host = await KestrelHost.StartAsync(RenderApp.Build, new Dictionary<string, string?>
        {
            ["Render:WorkerCount"] = "2",
            ["Bulkheads:render:QueueLimit"] = "0",
            ["Render:MaxWidth"] = "256",
            ["Render:MaxHeight"] = "256",
            ["Render:MaxPixels"] = "65536",
            ["Render:MaxIterations"] = "200",
            ["Render:TenantWorkBudget:WorkUnitsPerSecond"] = "3276800",
            ["Bulkheads:render:TenantMaxShare"] = "1",
        }, b =>
        {
            b.Services.AddSingleton<IRenderJobObserver>(observer);
            b.Services.AddSingleton<TimeProvider>(time);
        });
        var client = new RenderService.RenderServiceClient(host.CreateChannel());
        var ct = TestContext.Current.CancellationToken;
        var held = new List<(int Tick, ManualResetEventSlim Gate, Task<RenderResponse> Call)>();
        var rejectionsOfA = new List<RpcException>();
        Task<ManualResetEventSlim>? nextStart = null;
        var bSucceeded = 0;
        var bSent = 0;
        var bFailures = new List<string>();

        // Act: 20 ticks of one second; each tick A sends one maximal render, then B sends five small ones.
        for (var tick = 0; tick < 20; tick++)
        {
            if (tick > 0)
            {
                time.Advance(TimeSpan.FromSeconds(1));
            }

            // A render held for two ticks ends: it finishes (real CPU) before the next fake second starts.
            foreach (var done in held.Where(h => h.Tick <= tick - 2).ToList())
            {
                done.Gate.Set();
                await done.Call.DefaultTimeout();
                held.Remove(done);
            }

            var a = client.RenderAsync(Maximal, new Metadata { { MeshMetadata.TenantId, "tenant-a" } }, cancellationToken: ct).ResponseAsync;
            nextStart ??= observer.Started.Reader.ReadAsync(ct).AsTask();
            if (await Task.WhenAny(a, nextStart).DefaultTimeout() == nextStart)
            {
                held.Add((tick, await nextStart, a));
                nextStart = null;
            }
            else
            {
                rejectionsOfA.Add(await Assert.ThrowsAsync<RpcException>(() => a));
            }

            for (var i = 0; i < 5; i++)
            {
                bSent++;
                try
                {
                    await client.RenderAsync(Small, new Metadata { { MeshMetadata.TenantId, "tenant-b" } }, cancellationToken: ct).ResponseAsync.DefaultTimeout();
                    bSucceeded++;
                }
                catch (RpcException e)
                {
                    bFailures.Add($"tick {tick}: {e.StatusCode} {e.Trailers.GetValue(MeshMetadata.RejectReason)}");
                }
            }
        }

        observer.ReleaseAll();

        // Assert
        Assert.True(bSucceeded >= 0.99 * bSent, $"tenant B: {bSucceeded} of {bSent} renders succeeded; {string.Join("; ", bFailures.Distinct())}");
        Assert.NotEmpty(rejectionsOfA);
        Assert.All(rejectionsOfA, e =>
        {
            Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
            Assert.Equal(MeshRejectReasons.TenantWorkBudget, e.Trailers.GetValue(MeshMetadata.RejectReason));
            Assert.True(long.TryParse(e.Trailers.GetValue(MeshMetadata.RetryPushbackMs), out var ms) && ms > 0);
        });
    }

    /// <summary>Holds every maximal (256-wide) render on its worker until the test sets its gate.</summary>
    private sealed class HoldMaximalObserver : IRenderJobObserver, IDisposable
    {
        private readonly ConcurrentQueue<ManualResetEventSlim> _gates = new();

        public Channel<ManualResetEventSlim> Started { get; } = Channel.CreateUnbounded<ManualResetEventSlim>();

        public void OnJobQueued(RenderParameters parameters)
        {
        }

        public void OnJobStarting(RenderParameters parameters)
        {
            if (parameters.Width != 256)
            {
                return;
            }

            var gate = new ManualResetEventSlim();
            _gates.Enqueue(gate);
            Started.Writer.TryWrite(gate);
            // Bounded, so a broken test fails instead of hanging a worker forever.
            gate.Wait(TimeSpan.FromSeconds(30));
        }

        public void ReleaseAll()
        {
            foreach (var gate in _gates)
            {
                gate.Set();
            }
        }

        public void Dispose() => ReleaseAll();
    }
}
