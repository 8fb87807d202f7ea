using Grpc.Net.Client;

namespace MeshBulkheads.EndToEnd.Tests.InProcess;

/// <summary>
/// The hops behind the gateway over TLS (<c>Mesh:Tls</c> on payments, reporting and render, each with a certificate from a
/// test CA; the gateway trusts it through <c>Gateway:Tls:BackendCaFile</c>, reporting through <c>Reporting:PaymentsCaFile</c>),
/// and the gateway's public port over TLS too. A gateway trusting another CA refuses payments' certificate: the caller gets
/// UNAVAILABLE naming the secure connection, and payments serves nothing.
/// </summary>
public sealed class TlsThroughGatewayTests : IDisposable
{
    private readonly TestCertificateAuthority _ca = TestCertificateAuthority.Create("MeshBulkheads test mesh CA");
    private readonly TestCertificateAuthority _otherCa = TestCertificateAuthority.Create("Someone else's CA");
    private readonly TestTlsSecret _secret = new();
    private readonly string _otherCaFile;

    public TlsThroughGatewayTests()
    {
        // One certificate for every host of the test (the names are localhost and 127.0.0.1); ca.crt beside it.
        _secret.Project(_ca.Issue(), _ca.CertificatePem);
        _otherCaFile = Path.Combine(_secret.Root, "other-ca.crt");
        File.WriteAllText(_otherCaFile, _otherCa.CertificatePem);
    }

    public void Dispose()
    {
        _secret.Dispose();
        _otherCa.Dispose();
        _ca.Dispose();
    }

    [Fact]
    public async Task Calls_EveryHopOverTlsTrustingTheMeshCa_ServedEndToEnd()
    {
        // Arrange
        await using var mesh = await InProcessMesh.StartAsync(Settings(_secret.CaFile));
        var client = new TrustingClient(_ca.Certificate);
        using var channel = GrpcChannel.ForAddress(mesh.Gateway.Endpoints.Grpc, new GrpcChannelOptions { HttpHandler = client.CreateHandler(), DisposeHttpClient = true });

        // Act
        var balance = await new PaymentsService.PaymentsServiceClient(channel)
            .GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, InProcessMesh.As(DemoTenants.AcmeKey));
        // Gateway → reporting → payments (reporting's own TLS client), both over TLS.
        var report = await new ReportingService.ReportingServiceClient(channel)
            .BuildReportAsync(new BuildReportRequest { AccountIds = { "acct-0001", "acct-0002" } }, InProcessMesh.As(DemoTenants.AcmeKey));

        // Assert
        Assert.All(mesh.All, h => Assert.Equal("https", h.Endpoints.Grpc.Scheme));
        Assert.Equal("acct-0001", balance.AccountId);
        Assert.Equal(["acct-0001", "acct-0002"], report.Accounts.Select(a => a.AccountId));
        Assert.NotEmpty(client.Presented);
    }

    [Fact]
    public async Task GetBalance_GatewayTrustsAnotherCa_UnavailableNamingTheSecureConnection()
    {
        // Arrange: payments serves TLS; the gateway's CA file is someone else's; its active probes off so the first call
        // reaches the forwarder (a failing probe would answer "no healthy backend" instead, also UNAVAILABLE).
        var settings = Settings(_otherCaFile);
        settings.Gateway["ReverseProxy:Clusters:payments:HealthCheck:Active:Enabled"] = "false";
        await using var mesh = await InProcessMesh.StartAsync(settings);
        using var channel = GrpcChannel.ForAddress(mesh.Gateway.Endpoints.Grpc, new GrpcChannelOptions { HttpHandler = new TrustingClient(_ca.Certificate).CreateHandler(), DisposeHttpClient = true });

        // Act
        var failure = await Assert.ThrowsAsync<RpcException>(() => new PaymentsService.PaymentsServiceClient(channel)
            .GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, InProcessMesh.As(DemoTenants.AcmeKey)).ResponseAsync);

        // Assert
        Assert.Equal(StatusCode.Unavailable, failure.StatusCode);
        Assert.Contains("SecureConnectionError", failure.Status.Detail, StringComparison.Ordinal);
        Assert.Equal("backend-unavailable", failure.Trailers.GetValue("x-mesh-reject-reason"));
    }

    [Fact]
    public async Task GetBalance_GatewaysCaFileRotatedToTheMeshCa_ServedWithoutARestart()
    {
        // Arrange: the gateway's CA file (a Secret of its own) starts as someone else's CA, checked every second (the
        // least Mesh:Tls:CheckInterval allows; the interval logic itself is CaFileTrustTests', on a FakeTimeProvider).
        // Health checks off, so the refused handshake does not take payments out of rotation.
        using var gatewayCa = new TestTlsSecret();
        gatewayCa.Project(_otherCa.Issue(), _otherCa.CertificatePem);
        var settings = Settings(gatewayCa.CaFile);
        settings.Gateway["Mesh:Tls:CheckInterval"] = "00:00:01";
        settings.Gateway["ReverseProxy:Clusters:payments:HealthCheck:Active:Enabled"] = "false";
        settings.Gateway["ReverseProxy:Clusters:payments:HealthCheck:Passive:Enabled"] = "false";
        await using var mesh = await InProcessMesh.StartAsync(settings);
        using var channel = GrpcChannel.ForAddress(mesh.Gateway.Endpoints.Grpc, new GrpcChannelOptions { HttpHandler = new TrustingClient(_ca.Certificate).CreateHandler(), DisposeHttpClient = true });
        var client = new PaymentsService.PaymentsServiceClient(channel);
        var before = await Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, InProcessMesh.As(DemoTenants.AcmeKey)).ResponseAsync);

        // Act: kubelet's ..data swap onto a generation whose ca.crt is the mesh CA; then calls until one is served.
        gatewayCa.Project(_ca.Issue(), _ca.CertificatePem);
        GetBalanceResponse? served = null;
        var failures = new List<string>();
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        patience.CancelAfter(TimeSpan.FromSeconds(20));
        while (served is null)
        {
            try
            {
                served = await client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, InProcessMesh.As(DemoTenants.AcmeKey).WithCancellationToken(patience.Token));
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && !patience.IsCancellationRequested)
            {
                failures.Add(e.Status.Detail);
                await Task.Delay(TimeSpan.FromMilliseconds(200), patience.Token);
            }
        }

        // Assert
        Assert.Equal(StatusCode.Unavailable, before.StatusCode);
        Assert.Contains("SecureConnectionError", before.Status.Detail, StringComparison.Ordinal);
        Assert.Equal("acct-0001", served.AccountId);
        Assert.All(failures, f => Assert.Contains("SecureConnectionError", f, StringComparison.Ordinal));
    }

    private InProcessMeshSettings Settings(string gatewayCaFile)
    {
        var settings = new InProcessMeshSettings().WithAmpleRateLimits();
        foreach (var host in new[] { settings.Payments, settings.Reporting, settings.Render, settings.Gateway })
        {
            foreach (var (key, value) in _secret.Settings)
            {
                host[key] = value;
            }
        }

        settings.Gateway["Gateway:Tls:BackendCaFile"] = gatewayCaFile;
        settings.Reporting["Reporting:PaymentsCaFile"] = _secret.CaFile;
        return settings;
    }
}
