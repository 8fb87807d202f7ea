using MeshBulkheads.Concurrency.Bulkheads;

namespace MeshBulkheads.Gateway.Tests.Deadlines;

/// <summary>The gateway ends a call at the deadline it assigned, whatever the backend does, and returns the route permit.</summary>
public class DeadlineEnforcementTests
{
    [Fact]
    public async Task GetBalance_BlackHoledBackend_DeadlineExceededAtTheRouteDefaultAndPermitReturned()
    {
        // Arrange: the client sends no deadline; the gateway assigns the route default (500 ms).
        await using var backend = await BlackHoleBackend.StartAsync();
        await using var gateway = await StartGatewayAsync(backend);

        // Act
        var error = await GetBalanceFailsAsync(gateway);

        // Assert
        AssertGatewayDeadline(error);
        await backend.Received.Task.DefaultTimeout();
        await backend.Cancelled.Task.DefaultTimeout();
        Assert.Equal(0, RoutePermitsInUse(gateway));
    }

    [Fact]
    public async Task GetBalance_BackendStartedAnsweringThenSilent_GrpcStatus4InTrailersNotAReset()
    {
        // Arrange: the backend sends headers and a message, then nothing (no trailers).
        await using var backend = await BlackHoleBackend.StartAsync(new GetBalanceResponse { AccountId = "acct-0001" });
        await using var gateway = await StartGatewayAsync(backend);

        // Act
        var error = await GetBalanceFailsAsync(gateway);

        // Assert: a reset would surface as CANCELLED/INTERNAL without the gateway's reason.
        AssertGatewayDeadline(error);
        await backend.Cancelled.Task.DefaultTimeout();
        Assert.Equal(0, RoutePermitsInUse(gateway));
    }

    [Fact]
    public async Task GetBalance_ClientDeadlineShorterThanDefault_GatewayCancelsBackendCall()
    {
        // Arrange: the caller's own deadline (1 s, under the route's 5 s default) applies; the gateway must
        // still cancel the backend call. 1 s, not less: a cold gateway process must reach the backend first.
        await using var backend = await BlackHoleBackend.StartAsync();
        await using var gateway = await StartGatewayAsync(backend, defaultDeadline: "00:00:05");

        // Act
        var error = await GetBalanceFailsAsync(gateway, deadline: DateTime.UtcNow.AddSeconds(1));

        // Assert
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.True(backend.Received.Task.IsCompleted, "the call never reached the backend within the caller's deadline");
        await backend.Cancelled.Task.DefaultTimeout();
        Assert.Equal(0, await PermitsReturnedAsync(gateway));
    }

    /// <summary>GetBalance as acme through <paramref name="gateway"/>, expected to fail.</summary>
    private static Task<RpcException> GetBalanceFailsAsync(KestrelHost gateway, DateTime? deadline = null)
    {
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());
        return Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(
            new GetBalanceRequest { AccountId = "acct-0001" }, DemoTenants.AcmeHeaders, deadline: deadline, cancellationToken: Ct).ResponseAsync.DefaultTimeout());
    }

    /// <summary>The gateway's own answer at its 500 ms route default: status, reason and message.</summary>
    private static void AssertGatewayDeadline(RpcException error)
    {
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Equal(MeshRejectReasons.DeadlineExceeded, error.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Contains("no answer within the deadline of 500 ms", error.Status.Detail, StringComparison.Ordinal);
    }

    private static Task<KestrelHost> StartGatewayAsync(BlackHoleBackend backend, string defaultDeadline = "00:00:00.500")
    {
        var closed = GatewayHost.ClosedPort();
        return GatewayHost.StartAsync(backend.Address, closed, closed, new Dictionary<string, string?>
        {
            ["Deadlines:Methods:/meshbulkheads.payments.v1.PaymentsService/:Default"] = defaultDeadline,
            ["ReverseProxy:Clusters:payments:HealthCheck:Active:Enabled"] = "false",
        });
    }

    private static int RoutePermitsInUse(KestrelHost gateway)
    {
        Assert.True(gateway.Services.GetRequiredService<IBulkheadProvider>().TryGet("gateway-payments", out var bulkhead));
        return bulkhead.ActiveCount;
    }

    /// <summary>
    /// The caller's own deadline ends the call on the client side first (grpc-dotnet resets the stream),
    /// so the gateway's release races the client's exception; the backend's cancellation (awaited before)
    /// comes from the forwarder's unwinding, which releases the permit right after.
    /// </summary>
    private static async Task<int> PermitsReturnedAsync(KestrelHost gateway)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TaskTimeoutExtensions.DefaultTimeoutSpan);
        while (RoutePermitsInUse(gateway) != 0)
        {
            await Task.Delay(10, timeout.Token);
        }

        return 0;
    }
}

/// <summary>A caller that sends headers but no body is answered at the deadline, not left hanging or reset.</summary>
public class DeadlineWhileReadingBodyTests
{
    [Fact]
    public async Task GetBalance_BodyNeverArrives_TrailersOnlyDeadlineExceededAtTheDeadline()
    {
        // Arrange
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        await using var gateway = await GatewayHost.StartPaymentsOnlyAsync(payments.Address);
        var bodyGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway.Endpoints.Grpc, "/meshbulkheads.payments.v1.PaymentsService/GetBalance"))
        {
            Version = System.Net.HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new GatedContent(bodyGate.Task),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        request.Headers.TryAddWithoutValidation(MeshMetadata.ApiKey, DemoTenants.AcmeKey);
        request.Headers.TryAddWithoutValidation(MeshMetadata.GrpcTimeout, "300m");

        // Act
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct).DefaultTimeout();
        bodyGate.TrySetResult();

        // Assert
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(((int)StatusCode.DeadlineExceeded).ToString(System.Globalization.CultureInfo.InvariantCulture), response.Headers.GetValues("grpc-status").Single());
        Assert.Equal(MeshRejectReasons.DeadlineExceeded, response.Headers.GetValues(MeshMetadata.RejectReason).Single());
        Assert.Empty(payments.Calls);
    }

    /// <summary>Sends nothing until the gate opens, then one empty gRPC frame.</summary>
    private sealed class GatedContent(Task gate) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.FlushAsync();
            await gate;
            await stream.WriteAsync(new byte[5]);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
