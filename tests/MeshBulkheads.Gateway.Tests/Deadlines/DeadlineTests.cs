using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Grpc.Core;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Contracts.Payments.V1;
using MeshBulkheads.Gateway.Tests.Fakes;
using MeshBulkheads.Testing;

namespace MeshBulkheads.Gateway.Tests.Deadlines;

/// <summary>grpc-timeout handling through the real gateway: default, clamp, reduction, bad values, cancellation.</summary>
public class DeadlineTests : IAsyncLifetime
{
    private FakeBackend _payments = null!;
    private KestrelHost _gateway = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _payments = await FakeBackend.StartAsync<FakePaymentsService>();
        var closed = GatewayHost.ClosedPort();
        _gateway = await GatewayHost.StartAsync(_payments.Address, closed, closed, new Dictionary<string, string?>
        {
            ["Gateway:Deadlines:payments:Default"] = "00:00:02",
            ["Gateway:Deadlines:payments:Max"] = "00:00:20",
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _payments.DisposeAsync();
    }

    [Fact]
    public async Task GetBalance_NoDeadline_BackendGetsTheRouteDefault()
    {
        // Act
        var call = await SendRawAsync(grpcTimeout: null);

        // Assert
        Assert.InRange(call, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task GetBalance_DeadlineAboveMax_BackendGetsTheRouteMax()
    {
        // Act
        var call = await SendRawAsync("5M");

        // Assert
        Assert.InRange(call, TimeSpan.FromSeconds(19), TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task GetBalance_TenSeconds_BackendGetsLessByTheTimeSpentInTheGateway()
    {
        // Act
        var call = await SendRawAsync("10S");

        // Assert: strictly less than what the caller sent (the exact reduction is unit-tested with a fake clock).
        Assert.InRange(call, TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(TimeSpan.TicksPerMicrosecond));
    }

    [Fact]
    public async Task GetBalance_GrpcClientDeadline_ForwardedReduced()
    {
        // Arrange
        var client = new PaymentsService.PaymentsServiceClient(_gateway.CreateChannel());
        var request = new GetBalanceRequest { AccountId = "acct-" + Guid.NewGuid().ToString("N") };

        // Act
        await client.GetBalanceAsync(request, Key(), deadline: DateTime.UtcNow.AddSeconds(8), cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert
        var call = Assert.Single(_payments.CallsFor(request));
        Assert.Equal(GrpcTimeoutParseResult.Valid, GrpcTimeoutParser.Parse(call.GrpcTimeout, out var forwarded));
        Assert.InRange(forwarded, TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(8));
    }

    [Theory]
    [InlineData("0m")]
    [InlineData("0S")]
    [InlineData("-5S")]
    public async Task GetBalance_ZeroOrNegativeTimeout_DeadlineExceededWithoutForwarding(string grpcTimeout)
    {
        // Act
        var (status, message, reason, request) = await SendRawExpectingErrorAsync(grpcTimeout);

        // Assert
        Assert.Equal(StatusCode.DeadlineExceeded, status);
        Assert.Equal(GatewayRejectReasons.DeadlineExceeded, reason);
        Assert.Contains($"grpc-timeout '{grpcTimeout}' leaves no time", message, StringComparison.Ordinal);
        Assert.Empty(_payments.CallsFor(request));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("5x")]
    [InlineData("123456789m")]
    [InlineData("m")]
    public async Task GetBalance_MalformedTimeout_InvalidArgumentWithoutForwarding(string grpcTimeout)
    {
        // Act
        var (status, message, reason, request) = await SendRawExpectingErrorAsync(grpcTimeout);

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, status);
        Assert.Equal(GatewayRejectReasons.MalformedGrpcTimeout, reason);
        Assert.Contains($"grpc-timeout '{grpcTimeout}' is malformed", message, StringComparison.Ordinal);
        Assert.Empty(_payments.CallsFor(request));
    }

    [Fact]
    public async Task GetBalance_ClientCancels_BackendCallIsCancelled()
    {
        // Arrange
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        var closed = GatewayHost.ClosedPort();
        await using var gateway = await GatewayHost.StartAsync(payments.Address, closed, closed);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var backendCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        payments.OnCall = async (_, context) =>
        {
            await using var registration = context.CancellationToken.Register(() => backendCancelled.TrySetResult());
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        };
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        // Act
        var call = client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, Key(), cancellationToken: cancel.Token).ResponseAsync;
        await started.Task.DefaultTimeout();
        await cancel.CancelAsync();

        // Assert
        var error = await Assert.ThrowsAsync<RpcException>(() => call.DefaultTimeout());
        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        await backendCancelled.Task.DefaultTimeout();
    }

    private static Metadata Key() => new() { { MeshMetadata.ApiKey, GatewayHost.AcmeKey } };

    /// <summary>A unary GetBalance as raw HTTP/2 (grpc-dotnet never sends a malformed grpc-timeout); returns the timeout the backend got.</summary>
    private async Task<TimeSpan> SendRawAsync(string? grpcTimeout)
    {
        var request = new GetBalanceRequest { AccountId = "acct-" + Guid.NewGuid().ToString("N") };
        using var response = await PostAsync(request, grpcTimeout);
        await response.Content.ReadAsByteArrayAsync(Ct).DefaultTimeout();
        Assert.Equal("0", response.TrailingHeaders.GetValues("grpc-status").Single());
        var call = Assert.Single(_payments.CallsFor(request));
        Assert.Equal(GrpcTimeoutParseResult.Valid, GrpcTimeoutParser.Parse(call.GrpcTimeout, out var forwarded));
        return forwarded;
    }

    private async Task<(StatusCode Status, string Message, string Reason, GetBalanceRequest Request)> SendRawExpectingErrorAsync(string grpcTimeout)
    {
        var request = new GetBalanceRequest { AccountId = "acct-" + Guid.NewGuid().ToString("N") };
        using var response = await PostAsync(request, grpcTimeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var status = (StatusCode)int.Parse(response.Headers.GetValues("grpc-status").Single(), System.Globalization.CultureInfo.InvariantCulture);
        var message = Uri.UnescapeDataString(response.Headers.GetValues("grpc-message").Single());
        return (status, message, response.Headers.GetValues(MeshMetadata.RejectReason).Single(), request);
    }

    private async Task<HttpResponseMessage> PostAsync(IMessage request, string? grpcTimeout)
    {
        var body = request.ToByteArray();
        var frame = new byte[5 + body.Length];
        frame[1] = (byte)(body.Length >> 24);
        frame[2] = (byte)(body.Length >> 16);
        frame[3] = (byte)(body.Length >> 8);
        frame[4] = (byte)body.Length;
        body.CopyTo(frame, 5);
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(_gateway.Endpoints.Grpc, "/meshbulkheads.payments.v1.PaymentsService/GetBalance"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(frame),
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        message.Headers.TryAddWithoutValidation("te", "trailers");
        message.Headers.TryAddWithoutValidation(MeshMetadata.ApiKey, GatewayHost.AcmeKey);
        if (grpcTimeout is not null)
        {
            message.Headers.TryAddWithoutValidation(MeshMetadata.GrpcTimeout, grpcTimeout);
        }

        return await Http.SendAsync(message, Ct).DefaultTimeout();
    }

    private static readonly HttpClient Http = new();
}
