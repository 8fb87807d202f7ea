using Grpc.Core;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Gateway.Deadlines;
using MeshBulkheads.Gateway.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace MeshBulkheads.Gateway.Tests.Deadlines;

/// <summary>The reduction arithmetic on a fake clock: no wall time involved.</summary>
public class DeadlineForwardingMiddlewareTests
{
    [Fact]
    public async Task InvokeAsync_1500msSpentOf10s_ForwardsExactlyTheRest()
    {
        // Arrange
        var time = new FakeTimeProvider();
        var context = Context(time, TimeSpan.FromSeconds(10));
        var forwarded = false;
        var middleware = new DeadlineForwardingMiddleware(_ => { forwarded = true; return Task.CompletedTask; }, Metrics(), time);
        time.Advance(TimeSpan.FromMilliseconds(1500));

        // Act
        await middleware.InvokeAsync(context);

        // Assert
        Assert.True(forwarded);
        Assert.Equal("8500000u", context.Request.Headers[MeshMetadata.GrpcTimeout].ToString());
    }

    [Fact]
    public async Task InvokeAsync_BudgetSpentInTheGateway_DeadlineExceededNotForwarded()
    {
        // Arrange
        var time = new FakeTimeProvider();
        var context = Context(time, TimeSpan.FromMilliseconds(300));
        var forwarded = false;
        var middleware = new DeadlineForwardingMiddleware(_ => { forwarded = true; return Task.CompletedTask; }, Metrics(), time);
        time.Advance(TimeSpan.FromMilliseconds(300));

        // Act
        await middleware.InvokeAsync(context);

        // Assert
        Assert.False(forwarded);
        Assert.Equal(((int)StatusCode.DeadlineExceeded).ToString(System.Globalization.CultureInfo.InvariantCulture), context.Response.Headers["grpc-status"].ToString());
        Assert.Equal(GatewayRejectReasons.DeadlineExceeded, context.Response.Headers[MeshMetadata.RejectReason].ToString());
        Assert.Contains("was spent in the gateway (300 ms)", Uri.UnescapeDataString(context.Response.Headers["grpc-message"].ToString()), StringComparison.Ordinal);
    }

    private static DefaultHttpContext Context(FakeTimeProvider time, TimeSpan timeout)
    {
        var context = new DefaultHttpContext();
        context.Request.ContentType = "application/grpc";
        context.Features.Set<IDeadlineFeature>(new GatewayDeadlineFeature(time.GetTimestamp(), timeout, time.GetUtcNow() + timeout, DeadlineSource.Header, CancellationToken.None));
        return context;
    }

    private static GatewayMetrics Metrics() => new(new TestMeterFactory());

    private sealed class TestMeterFactory : System.Diagnostics.Metrics.IMeterFactory
    {
        public System.Diagnostics.Metrics.Meter Create(System.Diagnostics.Metrics.MeterOptions options) => new(options);

        public void Dispose()
        {
        }
    }
}
