using System.Net;
using MeshBulkheads.Contracts.Identity;
using MeshBulkheads.Contracts.Render.V1;
using MeshBulkheads.Contracts.Reporting.V1;
using MeshBulkheads.Gateway.Forwarding;
using MeshBulkheads.Gateway.Tenancy;

namespace MeshBulkheads.Gateway.Tests.Tenancy;

public class TenancyTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private static GetBalanceRequest UniqueBalanceRequest() => new() { AccountId = "acct-" + Guid.NewGuid().ToString("N") };

    [Theory]
    [InlineData(null, "missing x-api-key metadata; demo keys are in the README")]
    [InlineData("not-a-key", "unknown API key")]
    public async Task GetBalance_MissingOrUnknownKey_UnauthenticatedAndBackendNeverCalled(string? apiKey, string expectedDetail)
    {
        // Arrange: no metadata at all, or an unknown key beside a tenant id it cannot vouch for.
        var client = new PaymentsService.PaymentsServiceClient(fixture.Gateway.CreateChannel());
        var request = UniqueBalanceRequest();
        var headers = apiKey is null ? null : new Metadata { { MeshMetadata.ApiKey, apiKey }, { MeshMetadata.TenantId, "acme" } };

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(
            () => client.GetBalanceAsync(request, headers, cancellationToken: Ct).ResponseAsync.DefaultTimeout());

        // Assert
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Equal(expectedDetail, error.Status.Detail);
        Assert.Equal(MeshRejectReasons.Unauthenticated, error.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Empty(fixture.Payments.CallsFor(request));
    }

    [Fact]
    public async Task GetBalance_SpoofedTenantId_ReplacedByAuthenticatedTenantAndKeyNotForwarded()
    {
        // Arrange
        var client = new PaymentsService.PaymentsServiceClient(fixture.Gateway.CreateChannel());
        var request = UniqueBalanceRequest();
        var headers = new Metadata
        {
            { MeshMetadata.ApiKey, DemoTenants.GlobexKey },
            { MeshMetadata.TenantId, "acme" },
            { MeshMetadata.Criticality, GatewayCriticality.Critical },
        };

        // Act
        await client.GetBalanceAsync(request, headers, cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert
        var call = Assert.Single(fixture.Payments.CallsFor(request));
        Assert.Equal(["globex"], call.Values(MeshMetadata.TenantId));
        Assert.Empty(call.Values(MeshMetadata.ApiKey));
        Assert.Equal([GatewayCriticality.Sheddable], call.Values(MeshMetadata.Criticality));
    }

    [Fact]
    public async Task GetBalance_ClientSentMeshTenantAndBaggageMetadata_NoneReachesTheBackend()
    {
        // Arrange: identity and mesh metadata a client might try to slip through, beside metadata of its own.
        var client = new PaymentsService.PaymentsServiceClient(fixture.Gateway.CreateChannel());
        var request = UniqueBalanceRequest();
        var headers = new Metadata
        {
            { MeshMetadata.ApiKey, DemoTenants.GlobexKey },
            { "x-tenant-tier", "gold" },
            { "X-Tenant-Id", "acme" },
            { "x-mesh-identity", "v1.forged" },
            { "x-mesh-reject-reason", "none" },
            { "baggage", "tenant=acme,role=admin" },
            { "x-request-id", "client-123" },
        };

        // Act
        await client.GetBalanceAsync(request, headers, cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert: only the gateway's own x-tenant-id, x-mesh-criticality and x-mesh-identity (its token, not the
        // client's: it verifies with payments' key and names globex), and the client's unrelated metadata.
        var call = Assert.Single(fixture.Payments.CallsFor(request));
        var names = call.Headers.Select(h => h.Key).ToList();
        Assert.DoesNotContain(names, n => n.StartsWith("x-tenant-", StringComparison.OrdinalIgnoreCase) && n != MeshMetadata.TenantId);
        Assert.DoesNotContain(names, n => n.StartsWith("x-mesh-", StringComparison.OrdinalIgnoreCase) && n != MeshMetadata.Criticality && n != MeshIdentityToken.Header);
        var token = Assert.Single(call.Values(MeshIdentityToken.Header));
        var keys = new Dictionary<string, byte[]> { [TestIdentity.KeyId] = Convert.FromBase64String(TestIdentity.Key("payments")) };
        Assert.Equal(
            MeshIdentityTokenResult.Valid,
            MeshIdentityToken.Verify(token, keys, "payments", TestIdentity.GetBalanceMethod, DateTimeOffset.UtcNow, out var claims));
        Assert.Equal("globex", claims!.Tenant);
        Assert.Empty(call.Values("baggage"));
        Assert.Equal(["globex"], call.Values(MeshMetadata.TenantId));
        Assert.Equal([GatewayCriticality.Sheddable], call.Values(MeshMetadata.Criticality));
        Assert.Equal(["client-123"], call.Values("x-request-id"));
    }

    [Theory]
    [InlineData("x-tenant-id", true)]
    [InlineData("X-TENANT-TIER", true)]
    [InlineData("x-mesh-identity", true)]
    [InlineData("baggage", true)]
    [InlineData("x-mesh-criticality", false)]
    [InlineData("x-request-id", false)]
    [InlineData("traceparent", false)]
    [InlineData("x-tenantid", false)]
    public void IsClientMetadata_HeaderName_StrippedOnlyWhenTheMeshOwnsIt(string name, bool stripped) =>
        Assert.Equal(stripped, TenancyMiddleware.IsClientMetadata(name));

    [Fact]
    public async Task Charge_AnyClientCriticality_ForwardedAsCritical()
    {
        // Arrange
        var client = new PaymentsService.PaymentsServiceClient(fixture.Gateway.CreateChannel());
        var key = Guid.NewGuid().ToString("N");
        var request = new ChargeRequest { AccountId = "acct-0001", AmountMinor = 5, Currency = "EUR", IdempotencyKey = key };
        var headers = new Metadata { { MeshMetadata.ApiKey, DemoTenants.InitechKey }, { MeshMetadata.Criticality, GatewayCriticality.Sheddable } };

        // Act
        await client.ChargeAsync(request, headers, cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert
        var call = Assert.Single(fixture.Payments.CallsFor(request));
        Assert.Equal(["initech"], call.Values(MeshMetadata.TenantId));
        Assert.Equal([GatewayCriticality.Critical], call.Values(MeshMetadata.Criticality));
        Assert.Empty(call.Values(MeshMetadata.ApiKey));
    }

    [Fact]
    public async Task BuildReportAndRender_WithKey_ForwardedAsSheddableWithTenant()
    {
        // Arrange
        var channel = fixture.Gateway.CreateChannel();
        var headers = DemoTenants.AcmeHeaders;
        var report = new BuildReportRequest { AccountIds = { Guid.NewGuid().ToString("N") } };
        var render = new RenderRequest { Width = 3, Height = 5, Iterations = Random.Shared.Next(1_000_001, 2_000_000) };

        // Act
        await new ReportingService.ReportingServiceClient(channel).BuildReportAsync(report, headers, cancellationToken: Ct).ResponseAsync.DefaultTimeout();
        await new RenderService.RenderServiceClient(channel).RenderAsync(render, headers, cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert
        foreach (var call in fixture.Reporting.CallsFor(report).Concat(fixture.Render.CallsFor(render)))
        {
            Assert.Equal(["acme"], call.Values(MeshMetadata.TenantId));
            Assert.Equal([GatewayCriticality.Sheddable], call.Values(MeshMetadata.Criticality));
        }

        Assert.Single(fixture.Reporting.CallsFor(report));
        Assert.Single(fixture.Render.CallsFor(render));
    }

    [Fact]
    public async Task PlainHttpCaller_MissingKey_Gets401()
    {
        // Arrange
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(fixture.Gateway.Endpoints.Grpc, "/meshbulkheads.payments.v1.PaymentsService/GetBalance"))
        {
            // The gRPC port is h2c only: HTTP/2 with prior knowledge.
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new StringContent("{}"),
        };

        // Act
        using var response = await http.SendAsync(request, Ct).DefaultTimeout();

        // Assert
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains(TenancyMiddleware.MissingKeyMessage, await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }
}
