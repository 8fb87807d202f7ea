using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Contracts.Payments.V1;
using MeshBulkheads.Gateway.Tests.Fakes;
using MeshBulkheads.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace MeshBulkheads.Gateway.Tests;

public class TenancyReloadTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Reload_ValidThenInvalid_NewKeyAppliesAndInvalidReloadKeepsLastGoodKeys()
    {
        // Arrange
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        var closed = GatewayHost.ClosedPort();
        await using var gateway = await GatewayHost.StartAsync(payments.Address, closed, closed);
        var configuration = (IConfigurationRoot)gateway.Services.GetRequiredService<IConfiguration>();
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());
        var request = new GetBalanceRequest { AccountId = "acct-0001" };
        Task<GetBalanceResponse> CallAsync(string key) =>
            client.GetBalanceAsync(request, new Metadata { { MeshMetadata.ApiKey, key } }, cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Act: a valid reload rotates acme's key ...
        configuration["Gateway:Tenants:0:ApiKey"] = "acme-rotated-key";
        configuration.Reload();
        await CallAsync("acme-rotated-key");
        var oldKey = await Assert.ThrowsAsync<RpcException>(() => CallAsync(GatewayHost.AcmeKey));

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
