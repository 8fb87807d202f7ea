using MeshBulkheads.Contracts.Identity;
using MeshBulkheads.Contracts.Reporting.V1;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Gateway.Tests.Identity;

/// <summary>
/// What the gateway signs for each forwarded call (docs/security.md, "Identity"): a token for the route's service only,
/// bound to the method, the authenticated tenant and the forwarded deadline, and a delegation for BuildReport's fan-out.
/// </summary>
public sealed class IdentityMiddlewareTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    [Fact]
    public async Task GetBalance_Forwarded_CarriesAPaymentsTokenForTheMethodTenantAndDeadline()
    {
        // Arrange
        var client = new PaymentsService.PaymentsServiceClient(fixture.Gateway.CreateChannel());
        var request = new GetBalanceRequest { AccountId = "acct-" + Guid.NewGuid().ToString("N") };
        var before = DateTimeOffset.UtcNow;

        // Act
        await client.GetBalanceAsync(request, DemoTenants.Headers(DemoTenants.InitechKey), deadline: before.AddSeconds(3).UtcDateTime, cancellationToken: Ct)
            .ResponseAsync.DefaultTimeout();

        // Assert
        var call = Assert.Single(fixture.Payments.CallsFor(request));
        var result = MeshIdentityToken.Verify(Assert.Single(call.Values(MeshIdentityToken.Header)), Keys("payments"), "payments", TestIdentity.GetBalanceMethod, DateTimeOffset.UtcNow, out var claims);
        Assert.Equal(MeshIdentityTokenResult.Valid, result);
        Assert.Equal(DemoTenants.Initech, claims!.Tenant);
        Assert.Equal(call.Values(MeshMetadata.Criticality), [claims.Criticality]);
        Assert.Null(claims.Actor);
        // Expires with the forwarded deadline (≤ the client's 3 s) plus the 5 s skew allowance.
        Assert.InRange(claims.Expires, before.AddSeconds(5), DateTimeOffset.UtcNow.AddSeconds(3 + 5 + 1));
        Assert.Empty(call.Values(MeshIdentityToken.DelegationHeader));
    }

    [Fact]
    public async Task GetBalance_TokenForPayments_DoesNotVerifyAtAnyOtherService()
    {
        // Arrange
        var client = new PaymentsService.PaymentsServiceClient(fixture.Gateway.CreateChannel());
        var request = new GetBalanceRequest { AccountId = "acct-" + Guid.NewGuid().ToString("N") };

        // Act
        await client.GetBalanceAsync(request, DemoTenants.AcmeHeaders, cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert: signed with payments' key only.
        var token = Assert.Single(Assert.Single(fixture.Payments.CallsFor(request)).Values(MeshIdentityToken.Header));
        foreach (var other in new[] { "reporting", "render" })
        {
            Assert.Equal(MeshIdentityTokenResult.BadSignature, MeshIdentityToken.Verify(token, Keys(other), other, TestIdentity.GetBalanceMethod, DateTimeOffset.UtcNow, out _));
        }
    }

    [Fact]
    public async Task BuildReport_Forwarded_CarriesReportingsTokenAndAPaymentsDelegationForGetBalance()
    {
        // Arrange
        var client = new ReportingService.ReportingServiceClient(fixture.Gateway.CreateChannel());
        var request = new BuildReportRequest { AccountIds = { "acct-" + Guid.NewGuid().ToString("N") } };

        // Act
        await client.BuildReportAsync(request, DemoTenants.AcmeHeaders, cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert
        var call = Assert.Single(fixture.Reporting.CallsFor(request));
        var now = DateTimeOffset.UtcNow;
        Assert.Equal(
            MeshIdentityTokenResult.Valid,
            MeshIdentityToken.Verify(Assert.Single(call.Values(MeshIdentityToken.Header)), Keys("reporting"), "reporting", TestIdentity.BuildReportMethod, now, out var identity));
        Assert.Equal(
            MeshIdentityTokenResult.Valid,
            MeshIdentityToken.Verify(Assert.Single(call.Values(MeshIdentityToken.DelegationHeader)), Keys("payments"), "payments", TestIdentity.GetBalanceMethod, now, out var delegation));
        Assert.Equal(DemoTenants.Acme, delegation!.Tenant);
        Assert.Equal("reporting", delegation.Actor);
        Assert.Equal(identity!.Expires, delegation.Expires);
        Assert.Equal(identity.Criticality, delegation.Criticality);
    }

    [Fact]
    public async Task GetBalance_SigningKeyIdRotated_TokensCarryTheNewKid()
    {
        // Arrange: the second step of a rotation — every service already holds k2 beside the old key.
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        var next = MeshIdentityToken.NewKey();
        var overrides = new Dictionary<string, string?> { ["Gateway:Identity:SigningKeyId"] = "k2" };
        foreach (var audience in TestIdentity.Audiences)
        {
            overrides[$"Gateway:Identity:Keys:{audience}:k2"] = audience == "payments" ? next : MeshIdentityToken.NewKey();
        }

        await using var gateway = await GatewayHost.StartPaymentsOnlyAsync(payments.Address, overrides);
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());
        var request = new GetBalanceRequest { AccountId = "acct-0001" };

        // Act
        await client.GetBalanceAsync(request, DemoTenants.AcmeHeaders, cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert
        var token = Assert.Single(Assert.Single(payments.CallsFor(request)).Values(MeshIdentityToken.Header));
        Assert.StartsWith("v1.k2.", token, StringComparison.Ordinal);
        Assert.Equal(
            MeshIdentityTokenResult.Valid,
            MeshIdentityToken.Verify(token, new Dictionary<string, byte[]> { ["k2"] = Convert.FromBase64String(next) }, "payments", TestIdentity.GetBalanceMethod, DateTimeOffset.UtcNow, out _));
    }

    [Theory]
    [InlineData("Gateway:Identity:SigningKeyId", "k9", "Gateway:Identity:Keys:payments has no key 'k9' (Gateway:Identity:SigningKeyId)")]
    [InlineData("Gateway:Identity:Keys:render:test", "c2hvcnQ=", "Gateway:Identity:Keys:render:test is not the base64 of at least 32 bytes")]
    [InlineData("Gateway:Identity:ClockSkew", "00:05:00", "Gateway:Identity:ClockSkew must be between 0 and 60 seconds")]
    public async Task Start_UnusableIdentityConfiguration_FailsNamingTheSettingNeverTheKey(string key, string value, string expected)
    {
        // Arrange
        var closed = GatewayHost.ClosedPort();

        // Act
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            GatewayHost.StartAsync(closed, closed, closed, new Dictionary<string, string?> { [key] = value }));

        // Assert
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(TestIdentity.Key("payments"), error.Message, StringComparison.Ordinal);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Dictionary<string, byte[]> Keys(string audience) => new() { [TestIdentity.KeyId] = Convert.FromBase64String(TestIdentity.Key(audience)) };
}
