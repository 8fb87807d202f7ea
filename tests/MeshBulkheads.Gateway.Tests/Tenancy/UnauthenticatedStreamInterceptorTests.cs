using Google.Protobuf;
using Grpc.Health.V1;
using Microsoft.Extensions.DependencyInjection.Extensions;
using V1 = Grpc.Reflection.V1;

namespace MeshBulkheads.Gateway.Tests.Tenancy;

/// <summary>
/// The gateway's own streams (reflection, Health/Watch) without a valid API key end <c>UNAVAILABLE</c>
/// (<c>unauthenticated-stream-idle</c>) after <c>Gateway:UnauthenticatedStreamIdleTimeout</c> without a client message.
/// The timer is the gateway's <see cref="TimeProvider"/>: a <see cref="FakeTimeProvider"/> advanced by the test.
/// </summary>
public sealed class UnauthenticatedStreamInterceptorTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan JustBefore = Timeout - TimeSpan.FromSeconds(1);

    private static readonly Method<V1.ServerReflectionRequest, V1.ServerReflectionResponse> ReflectionInfo = new(
        MethodType.DuplexStreaming,
        "grpc.reflection.v1.ServerReflection",
        "ServerReflectionInfo",
        Marshallers.Create(m => m.ToByteArray(), V1.ServerReflectionRequest.Parser.ParseFrom),
        Marshallers.Create(m => m.ToByteArray(), V1.ServerReflectionResponse.Parser.ParseFrom));

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task Watch_NoKey_EndedUnavailableWithReasonAfterTheIdleTimeout()
    {
        // Arrange
        await using var gateway = await StartAsync();
        var client = new Health.HealthClient(gateway.CreateChannel());
        using var watch = client.Watch(new HealthCheckRequest(), cancellationToken: Ct);
        Assert.True(await watch.ResponseStream.MoveNext(Ct).DefaultTimeout());

        // Act
        _time.Advance(Timeout);
        var ended = await Assert.ThrowsAsync<RpcException>(() => watch.ResponseStream.MoveNext(Ct).DefaultTimeout());

        // Assert
        Assert.Equal(StatusCode.Unavailable, ended.StatusCode);
        Assert.Equal(MeshRejectReasons.UnauthenticatedStreamIdle, ended.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Contains("without a valid x-api-key ends after 30 s", ended.Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("bad-key")]
    public async Task Watch_NoOrBadKeyBeforeTheTimeout_StillOpen(string? key)
    {
        // Arrange
        await using var gateway = await StartAsync();
        var channel = gateway.CreateChannel();
        var client = new Health.HealthClient(channel);
        using var watch = client.Watch(new HealthCheckRequest(), key is null ? null : DemoTenants.Headers(key), cancellationToken: Ct);
        Assert.True(await watch.ResponseStream.MoveNext(Ct).DefaultTimeout());

        // Act
        _time.Advance(JustBefore);
        var next = watch.ResponseStream.MoveNext(Ct);
        // A round trip on the same connection after the advance: an ended stream's trailers would be on the wire before it.
        await client.CheckAsync(new HealthCheckRequest(), cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert
        Assert.False(next.IsCompleted);
    }

    [Fact]
    public async Task Watch_ValidKey_NeverEndedByTheIdleTimeout()
    {
        // Arrange
        await using var gateway = await StartAsync();
        var client = new Health.HealthClient(gateway.CreateChannel());
        using var watch = client.Watch(new HealthCheckRequest(), DemoTenants.AcmeHeaders, cancellationToken: Ct);
        Assert.True(await watch.ResponseStream.MoveNext(Ct).DefaultTimeout());

        // Act
        _time.Advance(Timeout * 10);
        var next = watch.ResponseStream.MoveNext(Ct);
        await client.CheckAsync(new HealthCheckRequest(), cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert
        Assert.False(next.IsCompleted);
    }

    [Fact]
    public async Task ServerReflectionInfo_NoKey_EachRequestRestartsTheClockThenIdleEndsIt()
    {
        // Arrange
        await using var gateway = await StartAsync();
        using var call = gateway.CreateChannel().CreateCallInvoker().AsyncDuplexStreamingCall(ReflectionInfo, null, new CallOptions(cancellationToken: Ct));

        // Act: three requests, each just before the timeout of the previous one; then silence.
        var answered = 0;
        for (var i = 0; i < 3; i++)
        {
            await call.RequestStream.WriteAsync(new V1.ServerReflectionRequest { ListServices = string.Empty }, Ct).DefaultTimeout();
            Assert.True(await call.ResponseStream.MoveNext(Ct).DefaultTimeout());
            answered++;
            _time.Advance(JustBefore);
        }

        _time.Advance(Timeout - JustBefore);
        var ended = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(Ct).DefaultTimeout());

        // Assert
        Assert.Equal(3, answered);
        Assert.Equal(StatusCode.Unavailable, ended.StatusCode);
        Assert.Equal(MeshRejectReasons.UnauthenticatedStreamIdle, ended.Trailers.GetValue(MeshMetadata.RejectReason));
    }

    private Task<KestrelHost> StartAsync()
    {
        var closed = GatewayHost.ClosedPort();
        return KestrelHost.StartAsync(GatewayApp.Build, GatewayHost.Settings(closed, closed, closed, new Dictionary<string, string?>
        {
            ["Gateway:UnauthenticatedStreamIdleTimeout"] = Timeout.ToString(),
        }), b => b.Services.Replace(ServiceDescriptor.Singleton<TimeProvider>(_time)));
    }
}
