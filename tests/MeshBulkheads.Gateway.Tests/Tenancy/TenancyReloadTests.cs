using Microsoft.Extensions.Configuration;

namespace MeshBulkheads.Gateway.Tests.Tenancy;

public class TenancyReloadTests
{
    [Fact]
    public async Task Reload_ValidThenInvalid_NewKeyAppliesAndInvalidReloadKeepsLastGoodKeys()
    {
        // Arrange
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        await using var gateway = await GatewayHost.StartPaymentsOnlyAsync(payments.Address);
        var configuration = (IConfigurationRoot)gateway.Services.GetRequiredService<IConfiguration>();
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());
        var request = new GetBalanceRequest { AccountId = "acct-0001" };
        Task<GetBalanceResponse> CallAsync(string key) =>
            client.GetBalanceAsync(request, DemoTenants.Headers(key), cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Act: a valid reload rotates acme's key ...
        configuration["Gateway:Tenants:0:ApiKey"] = "acme-rotated-key";
        configuration.Reload();
        await CallAsync("acme-rotated-key");
        var oldKey = await Assert.ThrowsAsync<RpcException>(() => CallAsync(DemoTenants.AcmeKey));

        // ... and an invalid one (unknown tier) is refused by validation.
        configuration["Gateway:Tenants:1:Tier"] = "platinum";
        configuration["Gateway:Tenants:0:ApiKey"] = "acme-third-key";
        var invalidReload = Record.Exception(configuration.Reload);
        await CallAsync("acme-rotated-key");

        // Assert
        Assert.Equal(StatusCode.Unauthenticated, oldKey.StatusCode);
        Assert.NotNull(invalidReload);
        Assert.Contains("Gateway:Tenants:1:Tier 'platinum'", invalidReload.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, payments.Calls.Count);
        Assert.All(payments.Calls, c => Assert.Equal(["acme"], c.Values(MeshMetadata.TenantId)));
    }
}
