using System.Diagnostics;
using System.Net;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Contracts.Render.V1;
using static MeshBulkheads.Testing.Conditions;

namespace MeshBulkheads.Concurrency.Tests.Grpc;

public sealed class BulkheadInterceptorTests
{
    private static readonly Dictionary<string, string?> s_settings = new()
    {
        ["Deadlines:AllMethods:Default"] = "00:00:05",
        ["Deadlines:AllMethods:Max"] = "00:00:30",
    };

    [Fact]
    public async Task Render_QueueFull_UnavailableWithReasonAndPushbackInTrailersOnlyResponse()
    {
        // Arrange: fake time, so the queued call leaves the queue only when the permit frees, never by its 500 ms
        // queue time (CI, stop 25: on a loaded VM it was shed after 909 ms before the gate opened).
        await using var host = await InterceptorHost.StartAsync(s_settings, new FakeTimeProvider(TimeProvider.System.GetUtcNow()));
        var (probe, client) = (host.Probe, host.Client);
        var held = await host.HoldPermitAsync();
        var queued = client.RenderAsync(new RenderRequest { Width = 1 }, deadline: DateTime.UtcNow.AddSeconds(10));
        await WaitUntilAsync(() => host.Bulkhead.QueuedCount == 1);

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => client.RenderAsync(new RenderRequest { Width = 2 }, deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync.DefaultTimeout());
        probe.Gate.SetResult();
        await held.ResponseAsync.DefaultTimeout();
        await queued.ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal("queue-full", error.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Equal("500", error.Trailers.GetValue(MeshMetadata.RetryPushbackMs));
        Assert.Equal(2, probe.Started);
    }

    [Theory]
    [InlineData("0S", HttpStatusCode.OK, "4", "deadline-exceeded")]
    [InlineData("-1S", HttpStatusCode.OK, "4", "deadline-exceeded")]
    [InlineData("12x", HttpStatusCode.OK, "3", "malformed-grpc-timeout")]
    [InlineData("123456789S", HttpStatusCode.OK, "3", "malformed-grpc-timeout")]
    public async Task Render_RawGrpcTimeoutZeroOrMalformed_RejectedBeforeHandler(string grpcTimeout, HttpStatusCode httpStatus, string grpcStatus, string rejectReason)
    {
        // Arrange
        await using var host = await InterceptorHost.StartAsync(s_settings);
        using var http = new HttpClient();

        // Act
        var result = await RawGrpcCall.SendAsync(
            http, host.Address, "/meshbulkheads.render.v1.RenderService/Render", new RenderRequest { Width = 2 }, new Dictionary<string, string> { ["grpc-timeout"] = grpcTimeout }).DefaultTimeout();

        // Assert: the same x-mesh-reject-reason the gateway sends for the same header.
        Assert.Equal(httpStatus, result.HttpStatus);
        Assert.Equal(grpcStatus, result.GrpcStatus);
        Assert.Equal(rejectReason, result.RejectReason);
        Assert.Equal(0, host.Probe.Started);
    }

    [Fact]
    public async Task Render_NoGrpcTimeout_HandlerSeesDefaultDeadline()
    {
        // Arrange
        await using var host = await InterceptorHost.StartAsync(s_settings);
        var before = DateTime.UtcNow;

        // Act
        await host.Client.RenderAsync(new RenderRequest { Width = 2 }).ResponseAsync.DefaultTimeout();
        var after = DateTime.UtcNow;

        // Assert: the default (5 s) applies instead of "no deadline", counted from the call's arrival,
        // which lies between 'before' and 'after' (a loaded machine can take over a second to get there).
        Assert.InRange(host.Probe.LastDeadline, before.AddSeconds(5).AddMilliseconds(-50), after.AddSeconds(5).AddMilliseconds(50));
    }

    // Render_DeadlinePassesWhileQueued_*: see BulkheadInterceptorResolvedMethodTests (the client's own deadline here
    // ended the call whatever the server did; that test asserts the server's answer and reason on a fake clock).

    [Fact]
    public async Task Render_ClientRetryPolicyOnUnavailable_RetriesAfterPushback()
    {
        // Arrange: real time; asserts only "waited at least roughly the pushback" (500 ms, no samples yet).
        await using var host = await InterceptorHost.StartAsync(
            new(s_settings) { ["Bulkheads:render:QueueLimit"] = "0" },
            channelOptions: RetryingChannel.Options(StatusCode.Unavailable, maxAttempts: 3, TimeSpan.FromMilliseconds(10)));
        var (probe, client, bulkhead) = (host.Probe, host.Client, host.Bulkhead);
        var held = await host.HoldPermitAsync();

        // Act
        var stopwatch = Stopwatch.StartNew();
        var retried = client.RenderAsync(new RenderRequest { Width = 2 }, deadline: DateTime.UtcNow.AddSeconds(10));
        await WaitUntilAsync(() => bulkhead.GetStatistics()!.TotalFailedLeases >= 1);
        probe.Gate.SetResult();
        await held.ResponseAsync.DefaultTimeout();
        var response = await retried.ResponseAsync.DefaultTimeout();
        stopwatch.Stop();

        // Assert
        Assert.Equal("ok", response.Sha256);
        Assert.Equal(1, bulkhead.GetStatistics()!.TotalFailedLeases);
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromMilliseconds(400), $"retried after {stopwatch.Elapsed.TotalMilliseconds} ms, pushback was 500 ms");
    }
}
