using System.Diagnostics.Metrics;
using Grpc.Health.V1;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Contracts.Identity;
using MeshBulkheads.Payments;

namespace MeshBulkheads.EndToEnd.Tests.InProcess;

/// <summary>
/// Every service refuses a call the gateway did not sign for it (docs/security.md, "Identity"), before the call gets a
/// deadline, a validation answer or a permit: unsigned, forged, expired, for another service, replayed on another
/// method, or with a tenant or criticality of its own. The delegation token reaches payments through reporting and
/// opens <c>GetBalance</c> only.
/// </summary>
[Collection(InProcessMeshCollection.Name)]
public sealed class IdentityTests(InProcessMesh mesh)
{
    private const string ChargeMethod = "/meshbulkheads.payments.v1.PaymentsService/Charge";
    private const string RenderMethod = "/meshbulkheads.render.v1.RenderService/Render";

    public static TheoryData<string, string> Refusals()
    {
        var data = new TheoryData<string, string>();
        foreach (var service in TestIdentity.Audiences)
        {
            foreach (var refusal in new[] { "unsigned", "forged", "expired", "other-service-token", "own-key-other-audience", "other-method", "tenant-mismatch", "criticality-raised", "sent-twice" })
            {
                data.Add(service, refusal);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Call_TokenTheGatewayDidNotIssueForIt_UnauthenticatedBeforeAPermit(string service, string refusal)
    {
        // Arrange
        var host = Host(service);
        var method = MethodOf(service);
        var (headers, reason) = refusal switch
        {
            "unsigned" => (new Metadata(), MeshRejectReasons.IdentityMissing),
            // The right shape and kid, signed with a key the attacker made up.
            "forged" => (With(TestIdentity.Mint(service, method, key: MeshIdentityToken.NewKey())), MeshRejectReasons.IdentityInvalid),
            "expired" => (With(TestIdentity.Mint(service, method, lifetime: TimeSpan.FromSeconds(-1))), MeshRejectReasons.IdentityExpired),
            // A genuine token the gateway minted for another service, replayed here.
            "other-service-token" => (With(TestIdentity.Mint(Other(service), method)), MeshRejectReasons.IdentityInvalid),
            // A service's own key claiming another audience (only possible if keys were shared): still refused.
            "own-key-other-audience" => (With(TestIdentity.Mint(Other(service), method, key: TestIdentity.Key(service))), MeshRejectReasons.IdentityWrongAudience),
            "other-method" => (With(TestIdentity.Mint(service, OtherMethod(service))), MeshRejectReasons.IdentityWrongMethod),
            "tenant-mismatch" => (With(TestIdentity.Mint(service, method, tenant: DemoTenants.Acme), (MeshMetadata.TenantId, DemoTenants.Globex)), MeshRejectReasons.IdentityMismatch),
            "criticality-raised" => (With(TestIdentity.Mint(service, method, criticality: CriticalityHeader.Sheddable), (MeshMetadata.Criticality, CriticalityHeader.Critical)), MeshRejectReasons.IdentityMismatch),
            _ => (With(TestIdentity.Mint(service, method), (MeshIdentityToken.Header, TestIdentity.Mint(service, method))), MeshRejectReasons.IdentityInvalid),
        };
        using var permits = new MetricCollector<long>(host.Services.GetRequiredService<IMeterFactory>(), BulkheadConstants.MeterName, "meshbulkheads.bulkhead.requests");

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => CallAsync(host, service, headers));

        // Assert
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Equal(reason, error.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Equal("-1", error.Trailers.GetValue(MeshMetadata.RetryPushbackMs));
        Assert.DoesNotContain("v1.", error.Status.Detail, StringComparison.Ordinal);
        Assert.Empty(permits.GetMeasurementSnapshot());
    }

    [Theory]
    [InlineData("payments")]
    [InlineData("reporting")]
    [InlineData("render")]
    public async Task Call_TokenMintedForItsMethod_ServedAfterTakingAPermit(string service)
    {
        // Arrange: the positive control of the refusals above, with the headers the gateway sends.
        var host = Host(service);
        var headers = With(TestIdentity.Mint(service, MethodOf(service)), (MeshMetadata.TenantId, DemoTenants.Acme), (MeshMetadata.Criticality, CriticalityHeader.Critical));
        if (service == "reporting")
        {
            headers.Add(MeshIdentityToken.DelegationHeader, TestIdentity.Mint("payments", TestIdentity.GetBalanceMethod, actor: "reporting"));
        }

        using var permits = new MetricCollector<long>(host.Services.GetRequiredService<IMeterFactory>(), BulkheadConstants.MeterName, "meshbulkheads.bulkhead.requests");

        // Act
        await CallAsync(host, service, headers);

        // Assert
        Assert.NotEmpty(permits.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task GetBalance_DelegationToken_AcceptedByPaymentsForGetBalanceOnly()
    {
        // Arrange: what the gateway sends reporting for BuildReport, presented to payments directly.
        var delegation = TestIdentity.Mint("payments", TestIdentity.GetBalanceMethod, actor: "reporting");
        var client = new PaymentsService.PaymentsServiceClient(mesh.Payments.CreateChannel(mintIdentity: false));

        // Act
        var balance = await client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, With(delegation), cancellationToken: Ct).ResponseAsync.DefaultTimeout();
        var charge = await Assert.ThrowsAsync<RpcException>(() => client.ChargeAsync(
            new ChargeRequest { AccountId = "acct-0001", AmountMinor = 1, Currency = "USD", IdempotencyKey = Guid.NewGuid().ToString("N") },
            With(delegation),
            cancellationToken: Ct).ResponseAsync.DefaultTimeout());

        // Assert
        Assert.Equal("acct-0001", balance.AccountId);
        Assert.Equal(StatusCode.Unauthenticated, charge.StatusCode);
        Assert.Equal(MeshRejectReasons.IdentityWrongMethod, charge.Trailers.GetValue(MeshMetadata.RejectReason));
    }

    [Fact]
    public async Task BuildReport_WithoutDelegation_PaymentsRefusesTheFanOut()
    {
        // Arrange: a valid token for BuildReport but no x-mesh-delegation: reporting has nothing to present to payments.
        var client = new ReportingService.ReportingServiceClient(mesh.Reporting.CreateChannel(mintIdentity: false));
        var headers = With(TestIdentity.Mint("reporting", TestIdentity.BuildReportMethod));

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => client.BuildReportAsync(
            new BuildReportRequest { AccountIds = { "acct-0001" } }, headers, cancellationToken: Ct).ResponseAsync.DefaultTimeout());

        // Assert: payments' refusal surfaces as reporting's downstream failure, named.
        Assert.Equal("downstream-unauthenticated", error.Trailers.GetValue(MeshMetadata.RejectReason));
    }

    [Fact]
    public async Task BuildReport_DelegationMintedWithReportingsOwnKey_PaymentsRefusesIt()
    {
        // Arrange: reporting holds only its own key; a "delegation" it signs itself does not verify at payments.
        var client = new ReportingService.ReportingServiceClient(mesh.Reporting.CreateChannel(mintIdentity: false));
        var headers = With(TestIdentity.Mint("reporting", TestIdentity.BuildReportMethod));
        headers.Add(MeshIdentityToken.DelegationHeader, TestIdentity.Mint("payments", TestIdentity.GetBalanceMethod, actor: "reporting", key: TestIdentity.Key("reporting")));

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => client.BuildReportAsync(
            new BuildReportRequest { AccountIds = { "acct-0001" } }, headers, cancellationToken: Ct).ResponseAsync.DefaultTimeout());

        // Assert
        Assert.Equal("downstream-unauthenticated", error.Trailers.GetValue(MeshMetadata.RejectReason));
    }

    [Fact]
    public async Task Call_SheddableHeaderOnCriticalToken_LoweringAccepted()
    {
        // Arrange: reporting's fan-out marks itself sheddable under a critical token.
        var client = new PaymentsService.PaymentsServiceClient(mesh.Payments.CreateChannel(mintIdentity: false));
        var headers = With(TestIdentity.Mint("payments", TestIdentity.GetBalanceMethod), (MeshMetadata.Criticality, CriticalityHeader.Sheddable));

        // Act
        var balance = await client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, headers, cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal("acct-0001", balance.AccountId);
    }

    [Theory]
    [InlineData("payments")]
    [InlineData("reporting")]
    [InlineData("render")]
    public async Task HealthCheck_NoToken_Served(string service)
    {
        // Arrange: kubelet and the gateway's probes carry no token.
        var health = new Health.HealthClient(Host(service).CreateChannel(mintIdentity: false));

        // Act
        var reply = await health.CheckAsync(new HealthCheckRequest(), cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Fact]
    public async Task Start_PaymentsWithTwoLiveKeys_AcceptsTokensOfBothAndRefusesARetiredOne()
    {
        // Arrange: mid-rotation, k-old and k-new are live; k-retired was removed. An empty ledger: a served call
        // answers NOT_FOUND, past the identity check.
        var old = MeshIdentityToken.NewKey();
        var next = MeshIdentityToken.NewKey();
        await using var host = await KestrelHost.StartAsync(PaymentsApp.Build, new Dictionary<string, string?>
        {
            ["Payments:DataDirectory"] = Directory.CreateTempSubdirectory("meshbulkheads-rotation-").FullName,
            ["Payments:Seed"] = "false",
            ["Mesh:Identity:Keys:k-old"] = old,
            ["Mesh:Identity:Keys:k-new"] = next,
        });
        // Past warm-up (the schema exists): a call before it is refused with UNAVAILABLE db-unavailable, not NOT_FOUND.
        await host.WaitUntilReadyAsync();
        var client = new PaymentsService.PaymentsServiceClient(host.CreateChannel(mintIdentity: false));
        var request = new GetBalanceRequest { AccountId = "acct-0001" };
        Task<GetBalanceResponse> Call(string key, string keyId) =>
            client.GetBalanceAsync(request, With(TestIdentity.Mint("payments", TestIdentity.GetBalanceMethod, key: key, keyId: keyId)), cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Act
        var byOld = await Assert.ThrowsAsync<RpcException>(() => Call(old, "k-old"));
        var byNew = await Assert.ThrowsAsync<RpcException>(() => Call(next, "k-new"));
        var retired = await Assert.ThrowsAsync<RpcException>(() => Call(MeshIdentityToken.NewKey(), "k-retired"));

        // Assert
        Assert.Equal(StatusCode.NotFound, byOld.StatusCode);
        Assert.Equal(StatusCode.NotFound, byNew.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, retired.StatusCode);
        Assert.Equal(MeshRejectReasons.IdentityInvalid, retired.Trailers.GetValue(MeshMetadata.RejectReason));
    }

    [Fact]
    public async Task Start_ServiceWithAShortKey_FailsNamingTheSettingNeverTheKey()
    {
        // Arrange
        const string Short = "c2hvcnQta2V5";
        var data = Directory.CreateTempSubdirectory("meshbulkheads-nokeys-").FullName;

        // Act: a configured key replaces the test key (KestrelHost adds one only when none is configured).
        var shortKey = await Assert.ThrowsAnyAsync<Exception>(() => KestrelHost.StartAsync(
            PaymentsApp.Build, new Dictionary<string, string?> { ["Payments:DataDirectory"] = data, ["Mesh:Identity:Keys:k1"] = Short }));

        // Assert
        Assert.Contains("Mesh:Identity:Keys:k1 is not the base64 of at least 32 bytes", shortKey.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Short, shortKey.Message, StringComparison.Ordinal);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private KestrelHost Host(string service) => service switch
    {
        "payments" => mesh.Payments,
        "reporting" => mesh.Reporting,
        _ => mesh.Render,
    };

    private static string MethodOf(string service) => service switch
    {
        "payments" => TestIdentity.GetBalanceMethod,
        "reporting" => TestIdentity.BuildReportMethod,
        _ => RenderMethod,
    };

    private static string OtherMethod(string service) => service == "payments" ? ChargeMethod : TestIdentity.GetBalanceMethod;

    private static string Other(string service) => service == "render" ? "payments" : "render";

    private static Metadata With(string token, params (string Key, string Value)[] more)
    {
        var headers = new Metadata { { MeshIdentityToken.Header, token } };
        foreach (var (key, value) in more)
        {
            headers.Add(key, value);
        }

        return headers;
    }

    private static async Task CallAsync(KestrelHost host, string service, Metadata headers)
    {
        var channel = host.CreateChannel(mintIdentity: false);
        switch (service)
        {
            case "payments":
                await new PaymentsService.PaymentsServiceClient(channel)
                    .GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, headers, cancellationToken: Ct).ResponseAsync.DefaultTimeout();
                break;
            case "reporting":
                await new ReportingService.ReportingServiceClient(channel)
                    .BuildReportAsync(new BuildReportRequest { AccountIds = { "acct-0001" } }, headers, cancellationToken: Ct).ResponseAsync.DefaultTimeout();
                break;
            default:
                await new RenderService.RenderServiceClient(channel)
                    .RenderAsync(new RenderRequest { Width = 8, Height = 8, Iterations = 10 }, headers, cancellationToken: Ct).ResponseAsync.DefaultTimeout();
                break;
        }
    }
}
