using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Contracts.Render.V1;
using MeshBulkheads.Testing;
using Microsoft.Extensions.DependencyInjection;

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
        // Arrange
        var probe = new GatedRenderService.Probe();
        var (app, address) = await InterceptorHost.StartAsync(probe, s_settings);
        await using var _app = app;
        using var channel = GrpcChannel.ForAddress(address);
        var client = new RenderService.RenderServiceClient(channel);
        var held = client.RenderAsync(new RenderRequest { Width = 1 }, deadline: DateTime.UtcNow.AddSeconds(10));
        await probe.FirstStarted.Task.DefaultTimeout();
        var queued = client.RenderAsync(new RenderRequest { Width = 1 }, deadline: DateTime.UtcNow.AddSeconds(10));
        await WaitUntilAsync(() => app.Services.GetRequiredService<IBulkheadProvider>().Get("render").QueuedCount == 1);

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
        var probe = new GatedRenderService.Probe();
        var (app, address) = await InterceptorHost.StartAsync(probe, s_settings);
        await using var _app = app;
        using var http = new HttpClient();
        var payload = new RenderRequest { Width = 2 }.ToByteArray();
        var frame = new byte[5 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame, 5);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(address, "/meshbulkheads.render.v1.RenderService/Render"))
        {
            Content = new ByteArrayContent(frame),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = new("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        request.Headers.TryAddWithoutValidation("grpc-timeout", grpcTimeout);

        // Act
        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken).DefaultTimeout();
        await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        var status = response.Headers.TryGetValues("grpc-status", out var values) ? values.Single()
            : response.TrailingHeaders.TryGetValues("grpc-status", out var trailing) ? trailing.Single()
            : $"none: {response.StatusCode} {response.Version} {response.Headers} {response.Content.Headers}";

        var reason = response.Headers.TryGetValues(MeshMetadata.RejectReason, out var reasons) ? reasons.Single()
            : response.TrailingHeaders.TryGetValues(MeshMetadata.RejectReason, out var trailingReasons) ? trailingReasons.Single()
            : null;

        // Assert: the same x-mesh-reject-reason the gateway sends for the same header.
        Assert.Equal(httpStatus, response.StatusCode);
        Assert.Equal(grpcStatus, status);
        Assert.Equal(rejectReason, reason);
        Assert.Equal(0, probe.Started);
    }

    [Fact]
    public async Task Render_NoGrpcTimeout_HandlerSeesDefaultDeadline()
    {
        // Arrange
        var probe = new GatedRenderService.Probe();
        var (app, address) = await InterceptorHost.StartAsync(probe, s_settings);
        await using var _app = app;
        using var channel = GrpcChannel.ForAddress(address);
        var client = new RenderService.RenderServiceClient(channel);
        var before = DateTime.UtcNow;

        // Act
        await client.RenderAsync(new RenderRequest { Width = 2 }).ResponseAsync.DefaultTimeout();

        // Assert: the default (5 s) applies instead of "no deadline".
        Assert.InRange(probe.LastDeadline, before.AddSeconds(4), before.AddSeconds(6));
    }

    [Fact]
    public async Task Render_DeadlinePassesWhileQueued_DeadlineExceededAndHandlerNeverStarts()
    {
        // Arrange
        var probe = new GatedRenderService.Probe();
        var (app, address) = await InterceptorHost.StartAsync(probe, s_settings);
        await using var _app = app;
        using var channel = GrpcChannel.ForAddress(address);
        var client = new RenderService.RenderServiceClient(channel);
        var held = client.RenderAsync(new RenderRequest { Width = 1 }, deadline: DateTime.UtcNow.AddSeconds(10));
        await probe.FirstStarted.Task.DefaultTimeout();

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => client.RenderAsync(new RenderRequest { Width = 2 }, deadline: DateTime.UtcNow.AddMilliseconds(200)).ResponseAsync.DefaultTimeout());
        probe.Gate.SetResult();
        await held.ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Equal(1, probe.Started);
        Assert.Equal(0, probe.StartedAfterDeadline);
    }

    [Fact]
    public async Task Render_ClientRetryPolicyOnUnavailable_RetriesAfterPushback()
    {
        // Arrange: real time; asserts only "waited at least roughly the pushback" (500 ms, no samples yet).
        var probe = new GatedRenderService.Probe();
        var (app, address) = await InterceptorHost.StartAsync(probe, new(s_settings) { ["Bulkheads:render:QueueLimit"] = "0" });
        await using var _app = app;
        using var channel = GrpcChannel.ForAddress(address, RetryingChannel.Options(StatusCode.Unavailable, maxAttempts: 3, TimeSpan.FromMilliseconds(10)));
        var client = new RenderService.RenderServiceClient(channel);
        var bulkhead = app.Services.GetRequiredService<IBulkheadProvider>().Get("render");
        var held = client.RenderAsync(new RenderRequest { Width = 1 }, deadline: DateTime.UtcNow.AddSeconds(10));
        await probe.FirstStarted.Task.DefaultTimeout();

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

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TaskTimeoutExtensions.DefaultTimeoutSpan);
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
