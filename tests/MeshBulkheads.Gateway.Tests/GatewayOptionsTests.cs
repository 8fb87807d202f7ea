using Microsoft.Extensions.Options;

namespace MeshBulkheads.Gateway.Tests;

public class GatewayOptionsTests
{
    [Fact]
    public async Task Start_DuplicateApiKey_FailsNamingBothSettingsWithoutTheKey()
    {
        // Arrange
        var overrides = new Dictionary<string, string?> { ["Gateway:Tenants:2:ApiKey"] = DemoTenants.AcmeKey };

        // Act
        var message = await StartFailingAsync(overrides);

        // Assert
        Assert.Contains("Gateway:Tenants:2:ApiKey of tenant 'initech' duplicates Gateway:Tenants:0:ApiKey", message, StringComparison.Ordinal);
        Assert.DoesNotContain(DemoTenants.AcmeKey, message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Gateway:Tenants:1:Tier", "platinum", "Gateway:Tenants:1:Tier 'platinum' is not a known tier (gold|silver|bronze)")]
    // Every service refuses x-tenant-id 'Acme' (upper case), so the gateway must not start with it.
    [InlineData("Gateway:Tenants:0:Id", "Acme", "Gateway:Tenants:0:Id 'Acme' is not a valid tenant id")]
    // The old per-route shape would otherwise be ignored without a word.
    [InlineData("Gateway:Deadlines:reporting:Default", "00:00:30", "Gateway:Deadlines:reporting was removed: set Deadlines:Methods:<method prefix>")]
    public async Task Start_InvalidSetting_FailsNamingTheSetting(string key, string value, string expected)
    {
        // Arrange
        var overrides = new Dictionary<string, string?> { [key] = value };

        // Act
        var message = await StartFailingAsync(overrides);

        // Assert
        Assert.Contains(expected, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_DuplicateTenantIdAndEmptyKey_ReportsEveryProblem()
    {
        // Arrange
        var overrides = new Dictionary<string, string?>
        {
            ["Gateway:Tenants:1:Id"] = "acme",
            ["Gateway:Tenants:2:ApiKey"] = "",
        };

        // Act
        var message = await StartFailingAsync(overrides);

        // Assert
        Assert.Contains("Gateway:Tenants:1:Id 'acme' duplicates Gateway:Tenants:0:Id", message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Tenants:2:ApiKey is empty for tenant 'initech'", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiKeysFile_TenantEqualsKeyLines_ReplacesConfiguredKey()
    {
        // Arrange
        await using var file = await KeysFile.WriteAsync("txt", "# mounted from a Secret\nacme = acme-secret-key\n");
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        await using var gateway = await GatewayHost.StartPaymentsOnlyAsync(payments.Address, file.Setting);
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());
        var request = new GetBalanceRequest { AccountId = "acct-0001" };

        // Act
        await client.GetBalanceAsync(request, DemoTenants.Headers("acme-secret-key"), cancellationToken: Ct).ResponseAsync.DefaultTimeout();
        var oldKey = await Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(
            request, DemoTenants.AcmeHeaders, cancellationToken: Ct).ResponseAsync.DefaultTimeout());

        // Assert
        Assert.Equal(["acme"], Assert.Single(payments.Calls).Values(MeshMetadata.TenantId));
        Assert.Equal(StatusCode.Unauthenticated, oldKey.StatusCode);
    }

    [Fact]
    public async Task Start_ApiKeysFileNamesUnknownTenant_FailsNamingTheSetting()
    {
        // Arrange
        await using var file = await KeysFile.WriteAsync("json", """{ "umbrella": "some-key" }""");

        // Act
        var message = await StartFailingAsync(file.Setting);

        // Assert
        Assert.Contains("Gateway:ApiKeysFile names tenant 'umbrella', which is not in Gateway:Tenants", message, StringComparison.Ordinal);
        Assert.DoesNotContain("some-key", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_ApiKeysFileEntryWithNullValue_FailsNamingTheEntry()
    {
        // Arrange
        await using var file = await KeysFile.WriteAsync("json", """{ "acme": null, "globex": "globex-secret-key" }""");

        // Act: a validation failure (the exact type), not a NullReferenceException.
        var message = await StartFailingAsync(file.Setting);

        // Assert: naming the setting and the entry.
        Assert.Contains("Gateway:ApiKeysFile: the entry of tenant 'acme' has no key (null)", message, StringComparison.Ordinal);
        Assert.DoesNotContain("globex-secret-key", message, StringComparison.Ordinal);
    }

    /// <summary>Starts a gateway (no backends) that must refuse <paramref name="overrides"/>; returns the validation message.</summary>
    private static async Task<string> StartFailingAsync(IDictionary<string, string?> overrides)
    {
        var closed = GatewayHost.ClosedPort();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(closed, closed, closed, overrides));
        return error.Message;
    }

    /// <summary>A temporary <c>Gateway:ApiKeysFile</c>, deleted when the test ends.</summary>
    private sealed class KeysFile : IAsyncDisposable
    {
        private KeysFile(string path) => Setting = new Dictionary<string, string?> { ["Gateway:ApiKeysFile"] = path };

        /// <summary>The setting that points the gateway at the file.</summary>
        public Dictionary<string, string?> Setting { get; }

        public static async Task<KeysFile> WriteAsync(string extension, string content)
        {
            var path = Path.Combine(Path.GetTempPath(), $"gateway-keys-{Guid.NewGuid():N}.{extension}");
            await File.WriteAllTextAsync(path, content, Ct);
            return new KeysFile(path);
        }

        public ValueTask DisposeAsync()
        {
            File.Delete(Setting["Gateway:ApiKeysFile"]!);
            return ValueTask.CompletedTask;
        }
    }
}
