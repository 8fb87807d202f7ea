using Microsoft.Extensions.Hosting;
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

    [Fact]
    public async Task Start_ProductionWithShippedDemoKeysOrAShortKey_FailsNamingEachTenantNeverTheKey()
    {
        // Arrange: the shipped Development tenants (demo keys), initech's replaced by a unique but short key.
        var closed = GatewayHost.ClosedPort();
        var settings = GatewayHost.Settings(closed, closed, closed, new Dictionary<string, string?> { ["Gateway:Tenants:2:ApiKey"] = "short-but-unique-key" });

        // Act
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            KestrelHost.StartAsync(GatewayApp.Build, settings, environment: Environments.Production));

        // Assert
        Assert.Contains("Gateway:Tenants:0:ApiKey of tenant 'acme' is one of the demo keys this repository ships: Production refuses them", error.Message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Tenants:1:ApiKey of tenant 'globex' is one of the demo keys", error.Message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Tenants:2:ApiKey of tenant 'initech' has 20 characters: Production needs at least 32", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(DemoTenants.AcmeKey, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("short-but-unique-key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_ProductionWithLongRandomKeys_ServesTheTenant()
    {
        // Arrange
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        var closed = GatewayHost.ClosedPort();
        var keys = Enumerable.Range(0, 3).Select(_ => Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))).ToList();
        var settings = GatewayHost.Settings(payments.Address, closed, closed, new Dictionary<string, string?>
        {
            ["Gateway:Tenants:0:ApiKey"] = keys[0],
            ["Gateway:Tenants:1:ApiKey"] = keys[1],
            ["Gateway:Tenants:2:ApiKey"] = keys[2],
        });
        await using var gateway = await KestrelHost.StartAsync(GatewayApp.Build, settings, environment: Environments.Production);
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());

        // Act
        var balance = await client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, DemoTenants.Headers(keys[0]), cancellationToken: Ct).ResponseAsync.DefaultTimeout();
        var demoKey = await Assert.ThrowsAsync<RpcException>(() =>
            client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, DemoTenants.Headers(DemoTenants.AcmeKey), cancellationToken: Ct).ResponseAsync.DefaultTimeout());

        // Assert
        Assert.NotNull(balance);
        Assert.Equal(StatusCode.Unauthenticated, demoKey.StatusCode);
        Assert.Equal(["acme"], Assert.Single(payments.Calls).Values(MeshMetadata.TenantId));
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
