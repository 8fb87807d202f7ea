using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Contracts.Payments.V1;
using MeshBulkheads.Gateway.Tests.Fakes;
using MeshBulkheads.Testing;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Gateway.Tests;

public class GatewayOptionsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Start_DuplicateApiKey_FailsNamingBothSettingsWithoutTheKey()
    {
        // Arrange
        var closed = GatewayHost.ClosedPort();
        var overrides = new Dictionary<string, string?> { ["Gateway:Tenants:2:ApiKey"] = GatewayHost.AcmeKey };

        // Act
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(closed, closed, closed, overrides));

        // Assert
        Assert.Contains("Gateway:Tenants:2:ApiKey of tenant 'initech' duplicates Gateway:Tenants:0:ApiKey", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(GatewayHost.AcmeKey, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_UnknownTier_FailsNamingTheSetting()
    {
        // Arrange
        var closed = GatewayHost.ClosedPort();
        var overrides = new Dictionary<string, string?> { ["Gateway:Tenants:1:Tier"] = "platinum" };

        // Act
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(closed, closed, closed, overrides));

        // Assert
        Assert.Contains("Gateway:Tenants:1:Tier 'platinum' is not a known tier (gold|silver|bronze)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_DuplicateTenantIdAndEmptyKey_ReportsEveryProblem()
    {
        // Arrange
        var closed = GatewayHost.ClosedPort();
        var overrides = new Dictionary<string, string?>
        {
            ["Gateway:Tenants:1:Id"] = "acme",
            ["Gateway:Tenants:2:ApiKey"] = "",
        };

        // Act
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(closed, closed, closed, overrides));

        // Assert
        Assert.Contains("Gateway:Tenants:1:Id 'acme' duplicates Gateway:Tenants:0:Id", error.Message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Tenants:2:ApiKey is empty for tenant 'initech'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiKeysFile_TenantEqualsKeyLines_ReplacesConfiguredKey()
    {
        // Arrange
        var file = Path.Combine(Path.GetTempPath(), $"gateway-keys-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(file, "# mounted from a Secret\nacme = acme-secret-key\n", Ct);
        try
        {
            await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
            var closed = GatewayHost.ClosedPort();
            await using var gateway = await GatewayHost.StartAsync(payments.Address, closed, closed, new Dictionary<string, string?>
            {
                ["Gateway:ApiKeysFile"] = file,
            });
            var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());
            var request = new GetBalanceRequest { AccountId = "acct-0001" };

            // Act
            await client.GetBalanceAsync(request, new Metadata { { MeshMetadata.ApiKey, "acme-secret-key" } }, cancellationToken: Ct).ResponseAsync.DefaultTimeout();
            var oldKey = await Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(
                request, new Metadata { { MeshMetadata.ApiKey, GatewayHost.AcmeKey } }, cancellationToken: Ct).ResponseAsync.DefaultTimeout());

            // Assert
            Assert.Equal(["acme"], Assert.Single(payments.Calls).Values(MeshMetadata.TenantId));
            Assert.Equal(StatusCode.Unauthenticated, oldKey.StatusCode);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Start_ApiKeysFileNamesUnknownTenant_FailsNamingTheSetting()
    {
        // Arrange
        var file = Path.Combine(Path.GetTempPath(), $"gateway-keys-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, """{ "umbrella": "some-key" }""", Ct);
        try
        {
            var closed = GatewayHost.ClosedPort();

            // Act
            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(closed, closed, closed, new Dictionary<string, string?>
            {
                ["Gateway:ApiKeysFile"] = file,
            }));

            // Assert
            Assert.Contains("Gateway:ApiKeysFile names tenant 'umbrella', which is not in Gateway:Tenants", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("some-key", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
