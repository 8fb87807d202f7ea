using Grpc.Health.V1;
using SpanKind = MeshBulkheads.Testing.Otlp.Proto.Trace.Span.Types.SpanKind;

namespace MeshBulkheads.EndToEnd.Tests.Processes;

/// <summary>
/// An idle mesh exports nothing a user would page through while looking for their own trace: no
/// gateway active-health probes (YARP's <c>GET /readyz</c> client spans), no kubelet-style
/// <c>grpc.health.v1.Health/Check</c> server spans, and payments' start-up seeding is at most one trace.
/// Real processes and a real OTLP receiver: the filters live in each process's instrumentation.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class IdleTraceTests : TracedMeshTests
{
    // Three of the gateway's active-health intervals (5 s): every destination is probed at least twice.
    private static readonly TimeSpan IdleWindow = TimeSpan.FromSeconds(15);

    // Spans reach the receiver within a batch delay (200 ms) of ending; this bounds a slow machine.
    private static readonly TimeSpan ExportSettle = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task IdleMesh_ProbedLikeKubelet_ExportsNoSpansAndAtMostOneSeedingTrace()
    {
        // Arrange: the mesh is up (every process ready); let start-up spans drain.
        var ct = TestContext.Current.CancellationToken;
        await Task.Delay(ExportSettle, ct);
        var atStart = Receiver.Spans;

        // Act: stay idle for the window, probing every gRPC port the way kubelet's gRPC probe does.
        var probed = 0;
        var until = DateTime.UtcNow + IdleWindow;
        while (DateTime.UtcNow < until)
        {
            foreach (var process in Mesh.All)
            {
                var health = new Health.HealthClient(process.CreateChannel());
                var reply = await health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: ct);
                Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
                probed++;
            }

            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }

        await Task.Delay(ExportSettle, ct);
        var all = Receiver.Spans;
        var duringIdle = all.Skip(atStart.Count).ToList();
        foreach (var span in all)
        {
            TestContext.Current.TestOutputHelper?.WriteLine(span.ToString());
        }

        // Assert: nothing at all while idle, though every process answered its probes.
        Assert.True(probed >= 4 * 10, $"only {probed} health probes were made");
        Assert.Empty(duringIdle);

        // Start-up: payments' schema and seeding is one trace under one 'payments.seed' root, or none;
        // no other process exported anything (the gateway's probes ran from its first second).
        Assert.All(all, s => Assert.Equal("payments", s.ServiceName));
        var traces = all.Select(s => s.TraceId).Distinct().ToList();
        Assert.True(traces.Count <= 1, $"{traces.Count} traces at start-up: {string.Join(", ", all.Where(s => s.ParentSpanId is null).Select(s => s.Name).Distinct())}");
        if (traces.Count == 1)
        {
            var root = Assert.Single(all, s => s.ParentSpanId is null);
            Assert.Equal("payments.seed", root.Name);
            Assert.Equal(SpanKind.Internal, root.Kind);
        }
    }
}
