using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using MeshBulkheads.Concurrency.Deadlines;

namespace MeshBulkheads.Gateway.Tests.Deadlines;

/// <summary>grpc-timeout handling through the real gateway: default, clamp, reduction, bad values, cancellation.</summary>
public class DeadlineTests : IAsyncLifetime
{
    private FakeBackend _payments = null!;
    private KestrelHost _gateway = null!;

    public async ValueTask InitializeAsync()
    {
        _payments = await FakeBackend.StartAsync<FakePaymentsService>();
        _gateway = await GatewayHost.StartPaymentsOnlyAsync(_payments.Address, new Dictionary<string, string?>
        {
            ["Deadlines:Methods:/meshbulkheads.payments.v1.PaymentsService/:Default"] = "00:00:02",
            ["Deadlines:Methods:/meshbulkheads.payments.v1.PaymentsService/:Max"] = "00:00:20",
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
        await client.GetBalanceAsync(request, DemoTenants.AcmeHeaders, deadline: DateTime.UtcNow.AddSeconds(8), cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert
        var call = Assert.Single(_payments.CallsFor(request));
        Assert.Equal(GrpcTimeoutParseResult.Valid, GrpcTimeoutParser.Parse(call.GrpcTimeout, out var forwarded));
        Assert.InRange(forwarded, TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(8));
    }

    [Theory]
    [InlineData("0m", StatusCode.DeadlineExceeded, MeshRejectReasons.DeadlineExceeded, "leaves no time")]
    [InlineData("0S", StatusCode.DeadlineExceeded, MeshRejectReasons.DeadlineExceeded, "leaves no time")]
    [InlineData("-5S", StatusCode.DeadlineExceeded, MeshRejectReasons.DeadlineExceeded, "leaves no time")]
    [InlineData("abc", StatusCode.InvalidArgument, MeshRejectReasons.MalformedGrpcTimeout, "is malformed")]
    [InlineData("5x", StatusCode.InvalidArgument, MeshRejectReasons.MalformedGrpcTimeout, "is malformed")]
    [InlineData("123456789m", StatusCode.InvalidArgument, MeshRejectReasons.MalformedGrpcTimeout, "is malformed")]
    [InlineData("m", StatusCode.InvalidArgument, MeshRejectReasons.MalformedGrpcTimeout, "is malformed")]
    public async Task GetBalance_ZeroNegativeOrMalformedTimeout_RejectedWithoutForwarding(string grpcTimeout, StatusCode expectedStatus, string expectedReason, string why)
    {
        // Act
        var (status, message, reason, request) = await SendRawExpectingErrorAsync(grpcTimeout);

        // Assert: zero or negative leaves no time (DEADLINE_EXCEEDED); malformed is the caller's error (INVALID_ARGUMENT).
        Assert.Equal(expectedStatus, status);
        Assert.Equal(expectedReason, reason);
        Assert.Contains($"grpc-timeout '{grpcTimeout}' {why}", message, StringComparison.Ordinal);
        Assert.Empty(_payments.CallsFor(request));
    }

    [Fact]
    public async Task GetBalance_ClientCancels_BackendCallIsCancelled()
    {
        // Arrange
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        await using var gateway = await GatewayHost.StartPaymentsOnlyAsync(payments.Address);
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
        var call = client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, DemoTenants.AcmeHeaders, cancellationToken: cancel.Token).ResponseAsync;
        await started.Task.DefaultTimeout();
        await cancel.CancelAsync();

        // Assert
        var error = await Assert.ThrowsAsync<RpcException>(() => call.DefaultTimeout());
        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        await backendCancelled.Task.DefaultTimeout();
    }

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
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(_gateway.Endpoints.Grpc, "/meshbulkheads.payments.v1.PaymentsService/GetBalance"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(RawGrpc.Frame(request)),
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        message.Headers.TryAddWithoutValidation("te", "trailers");
        message.Headers.TryAddWithoutValidation(MeshMetadata.ApiKey, DemoTenants.AcmeKey);
        if (grpcTimeout is not null)
        {
            message.Headers.TryAddWithoutValidation(MeshMetadata.GrpcTimeout, grpcTimeout);
        }

        return await Http.SendAsync(message, Ct).DefaultTimeout();
    }

    private static readonly HttpClient Http = new();
}
