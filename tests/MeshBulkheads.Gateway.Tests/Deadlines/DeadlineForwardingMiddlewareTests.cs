using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Gateway.Deadlines;
using MeshBulkheads.Gateway.Telemetry;
using Microsoft.AspNetCore.Http;

namespace MeshBulkheads.Gateway.Tests.Deadlines;

/// <summary>The reduction arithmetic on a fake clock: no wall time involved.</summary>
public class DeadlineForwardingMiddlewareTests
{
    [Fact]
    public async Task InvokeAsync_1500msSpentOf10s_ForwardsExactlyTheRest()
    {
        // Act
        var (forwarded, context) = await InvokeAsync(TimeSpan.FromSeconds(10), spentInGateway: TimeSpan.FromMilliseconds(1500));

        // Assert
        Assert.True(forwarded);
        Assert.Equal("8500000u", context.Request.Headers[MeshMetadata.GrpcTimeout].ToString());
    }

    [Fact]
    public async Task InvokeAsync_BudgetSpentInTheGateway_DeadlineExceededNotForwarded()
    {
        // Act
        var (forwarded, context) = await InvokeAsync(TimeSpan.FromMilliseconds(300), spentInGateway: TimeSpan.FromMilliseconds(300));

        // Assert
        Assert.False(forwarded);
        Assert.Equal(((int)StatusCode.DeadlineExceeded).ToString(System.Globalization.CultureInfo.InvariantCulture), context.Response.Headers["grpc-status"].ToString());
        Assert.Equal(MeshRejectReasons.DeadlineExceeded, context.Response.Headers[MeshMetadata.RejectReason].ToString());
        Assert.Contains("was spent in the gateway (300 ms)", Uri.UnescapeDataString(context.Response.Headers["grpc-message"].ToString()), StringComparison.Ordinal);
    }

    /// <summary>
    /// Runs the middleware on a gRPC request whose deadline was <paramref name="timeout"/> away when it arrived, after
    /// <paramref name="spentInGateway"/> passed on the fake clock; says whether it forwarded the request.
    /// </summary>
    private static async Task<(bool Forwarded, DefaultHttpContext Context)> InvokeAsync(TimeSpan timeout, TimeSpan spentInGateway)
    {
        var time = new FakeTimeProvider();
        var context = new DefaultHttpContext();
        context.Request.ContentType = "application/grpc";
        GatewayCall.Of(context).Deadline = new DeadlineFeature(time.GetUtcNow() + timeout, timeout, DeadlineSource.Header, CancellationToken.None);
        var forwarded = false;
        var middleware = new DeadlineForwardingMiddleware(_ => { forwarded = true; return Task.CompletedTask; }, Metrics(), time);
        time.Advance(spentInGateway);
        await middleware.InvokeAsync(context);
        return (forwarded, context);
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
