using System.Diagnostics.Metrics;
using Grpc.Core.Interceptors;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Grpc;
using MeshBulkheads.Concurrency.Telemetry;
using MeshBulkheads.Contracts.Render.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using static MeshBulkheads.Testing.Conditions;

namespace MeshBulkheads.Concurrency.Tests.Grpc;

/// <summary>
/// <c>meshbulkheads.rpc.server.handler_starts</c>: every handler start, tagged by whether the caller's effective
/// deadline had passed at that instant. Real Kestrel, a real client, the server's clock faked.
/// </summary>
public sealed class HandlerStartCounterTests
{
    private const string HandlerStarts = "meshbulkheads.rpc.server.handler_starts";

    private static readonly Dictionary<string, string?> s_settings = new()
    {
        ["Deadlines:AllMethods:Default"] = "00:00:10",
        ["Deadlines:AllMethods:Max"] = "00:00:30",
        ["Bulkheads:render:MaxQueueTime"] = "00:00:08",
    };

    [Fact]
    public async Task Render_AdmittedAtOnce_CountedAsStartedWithItsDeadlineMet()
    {
        // Arrange
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var host = await InterceptorHost.StartAsync(s_settings, time);
        using var starts = Collect(host.Services);

        // Act
        await host.Client.RenderAsync(new RenderRequest { Width = 2 }, deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync.DefaultTimeout();

        // Assert
        var start = Assert.Single(starts.GetMeasurementSnapshot());
        Assert.Equal(BulkheadInterceptor.DeadlineMet, start.Tags[MeshTelemetryTags.DeadlineState]);
        Assert.Equal("render", start.Tags[MeshTelemetryTags.Bulkhead]);
    }

    [Fact]
    public async Task Render_DeadlinePassesWhileQueued_RefusedAndNeverCountedAsAStart()
    {
        // Arrange: one permit held; the second call queues with a 5 s deadline on the server's fake clock (below
        // the bulkhead's 8 s MaxQueueTime, so only the deadline can end its wait).
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var host = await InterceptorHost.StartAsync(s_settings, time);
        using var starts = Collect(host.Services);
        var held = await host.HoldPermitAsync();
        var queued = CallStatus.OfAsync(host.Client.RenderAsync(new RenderRequest { Width = 2 }, deadline: DateTime.UtcNow.AddSeconds(5)).ResponseAsync);
        await WaitUntilAsync(() => host.Bulkhead.QueuedCount == 1);

        // Act
        time.Advance(TimeSpan.FromSeconds(6));
        var status = await queued.DefaultTimeout();
        host.Probe.Gate.SetResult();
        await held.ResponseAsync.DefaultTimeout();

        // Assert: the holder's start only, before its deadline (the fake clock had not moved then).
        Assert.Equal(StatusCode.DeadlineExceeded, status);
        var start = Assert.Single(starts.GetMeasurementSnapshot());
        Assert.Equal(BulkheadInterceptor.DeadlineMet, start.Tags[MeshTelemetryTags.DeadlineState]);
    }

    [Fact]
    public async Task Render_NoBulkheadGatesTheMethodAndTheDeadlinePassesBeforeTheHandler_DeadlineExceededAndNeverStarted()
    {
        // Arrange: no bulkhead gates render (like a method that acquires its permits itself), and a step between the
        // deadline interceptor and the handler takes 6 s of the server's clock, past the call's 5 s deadline.
        // Before the fix the handler started and the counter said `passed` (the deadline bench saw 1 of 131 reports).
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var probe = new GatedRenderService.Probe();
        await using var host = await H2cHost.StartAsync(
            builder =>
            {
                builder.Configuration.AddInMemoryCollection(s_settings);
                builder.Services.AddSingleton(probe);
                builder.Services.AddSingleton<TimeProvider>(time);
                builder.Services.AddGrpc(o =>
                {
                    o.Interceptors.Add<DeadlineInterceptor>();
                    o.Interceptors.Add<SlowStep>(time);
                    o.Interceptors.Add<BulkheadInterceptor>();
                });
                builder.Services.AddBulkheads();
            },
            app => app.MapGrpcService<GatedRenderService>());
        using var starts = Collect(host.Services);
        using var http = new HttpClient();

        // Act
        var result = await RawGrpcCall.SendAsync(http, host.Address, "/meshbulkheads.render.v1.RenderService/Render", new RenderRequest { Width = 2 }, new Dictionary<string, string> { ["grpc-timeout"] = "5S" }).DefaultTimeout();

        // Assert: the server's own answer, not the client's timer (which runs on real time, 5 s away).
        Assert.Equal("4", result.GrpcStatus);
        Assert.Equal("deadline-exceeded", result.RejectReason);
        Assert.Contains("before the handler started", result.Message, StringComparison.Ordinal);
        Assert.Equal(0, probe.Started);
        Assert.Empty(starts.GetMeasurementSnapshot());
    }

    private static MetricCollector<long> Collect(IServiceProvider services) =>
        new(services.GetRequiredService<IMeterFactory>(), BulkheadConstants.MeterName, HandlerStarts);

    /// <summary>A request check that takes 6 s of the server's (fake) clock.</summary>
    private sealed class SlowStep(FakeTimeProvider time) : Interceptor
    {
        public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
            TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
        {
            time.Advance(TimeSpan.FromSeconds(6));
            return continuation(request, context);
        }
    }
}
