using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using MeshBulkheads.Contracts.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Gateway.Tests.Tenancy;

/// <summary>
/// <c>Gateway:ApiKeysFile</c> in its <c>tenants</c> format: the whole tenant set, several keys per tenant as stored hashes,
/// watched (a rewrite and a Kubernetes Secret's <c>..data</c> symlink swap), an invalid change refused while the last good
/// keys serve, and Production's refusals. The watcher's timer is the gateway's <see cref="TimeProvider"/>: the tests
/// advance a <see cref="FakeTimeProvider"/> past <c>ApiKeysFileCheckInterval</c>, whose callback reloads synchronously.
/// </summary>
public sealed class ApiKeysFileTests : IDisposable
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(5);
    private static readonly string OldKey = NewKey();
    private static readonly string NewKeyOfUmbrella = NewKey();
    private static readonly string HooliKey = NewKey();

    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-keys-").FullName;
    private readonly FakeTimeProvider _time = new();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task ApiKeysFile_TenantsFormatWithTwoKeys_EitherKeyServesTheTenantAndConfiguredTenantsAreNotNeeded()
    {
        // Arrange: no Gateway:Tenants at all; the file is the tenant set.
        var path = Write("api-keys.json", TenantsFile(("umbrella", "gold", [OldKey, NewKeyOfUmbrella]), ("hooli", "bronze", [HooliKey])));
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        await using var gateway = await StartAsync(payments.Address, path);
        var client = Client(gateway);

        // Act
        await CallAsync(client, OldKey);
        await CallAsync(client, NewKeyOfUmbrella);
        await CallAsync(client, HooliKey);
        var demoKey = await Assert.ThrowsAsync<RpcException>(() => CallAsync(client, DemoTenants.AcmeKey));

        // Assert
        Assert.Equal(["umbrella", "umbrella", "hooli"], payments.Calls.Select(c => Assert.Single(c.Values(MeshMetadata.TenantId))));
        Assert.Equal(StatusCode.Unauthenticated, demoKey.StatusCode);
    }

    [Fact]
    public async Task ApiKeysFile_RewrittenWithKeyRevoked_RevokedKeyUnauthenticatedAndNewKeyServedWithoutRestart()
    {
        // Arrange
        var path = Write("api-keys.json", TenantsFile(("umbrella", "gold", [OldKey])));
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        await using var gateway = await StartAsync(payments.Address, path);
        var client = Client(gateway);
        await CallAsync(client, OldKey);
        var newKeyBefore = await Assert.ThrowsAsync<RpcException>(() => CallAsync(client, NewKeyOfUmbrella));

        // Act: rotate (both keys), then revoke the old one.
        Write("api-keys.json", TenantsFile(("umbrella", "gold", [OldKey, NewKeyOfUmbrella])));
        _time.Advance(CheckInterval);
        await CallAsync(client, OldKey);
        await CallAsync(client, NewKeyOfUmbrella);
        Write("api-keys.json", TenantsFile(("umbrella", "gold", [NewKeyOfUmbrella])));
        _time.Advance(CheckInterval);
        var revoked = await Assert.ThrowsAsync<RpcException>(() => CallAsync(client, OldKey));
        await CallAsync(client, NewKeyOfUmbrella);

        // Assert
        Assert.Equal(StatusCode.Unauthenticated, newKeyBefore.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, revoked.StatusCode);
        Assert.Equal(MeshRejectReasons.Unauthenticated, revoked.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Equal(4, payments.Calls.Count);
    }

    [Fact]
    public async Task ApiKeysFile_SecretSymlinkSwap_NewKeysApplyWithoutRestart()
    {
        // Arrange: the layout kubelet writes for a Secret volume: api-keys.json -> ..data/api-keys.json, ..data -> ..<timestamp>.
        Write("..2026_12_02_21_00_00.000000001/api-keys.json", TenantsFile(("umbrella", "gold", [OldKey])));
        File.CreateSymbolicLink(Path.Combine(_directory, "..data"), "..2026_12_02_21_00_00.000000001");
        var path = Path.Combine(_directory, "api-keys.json");
        File.CreateSymbolicLink(path, "..data/api-keys.json");
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        await using var gateway = await StartAsync(payments.Address, path);
        var client = Client(gateway);
        await CallAsync(client, OldKey);

        // Act: kubelet's update: a new timestamped directory, a temporary link to it renamed over ..data, the old directory removed.
        Write("..2026_12_02_21_05_00.000000002/api-keys.json", TenantsFile(("umbrella", "gold", [NewKeyOfUmbrella])));
        File.CreateSymbolicLink(Path.Combine(_directory, "..data_tmp"), "..2026_12_02_21_05_00.000000002");
        await RenameAsync("..data_tmp", "..data");
        Directory.Delete(Path.Combine(_directory, "..2026_12_02_21_00_00.000000001"), recursive: true);
        _time.Advance(CheckInterval);
        var oldKey = await Assert.ThrowsAsync<RpcException>(() => CallAsync(client, OldKey));
        await CallAsync(client, NewKeyOfUmbrella);

        // Assert
        Assert.Equal(StatusCode.Unauthenticated, oldKey.StatusCode);
        Assert.Equal(2, payments.Calls.Count);
    }

    [Theory]
    [InlineData("""{ "tenants": { "umbrella": { "tier": "gold", "keys": [ """, "Gateway:ApiKeysFile '")]
    [InlineData("""{ "tenants": { "umbrella": { "tier": "platinum", "keys": ["sha256:00"] } } }""", "Gateway:ApiKeysFile:tenants:umbrella:keys:0 of tenant 'umbrella' starts with 'sha256:' but is not sha256: and 64 hex digits")]
    [InlineData("""{ "tenants": { "umbrella": { "tier": "gold", "key": "x" } } }""", "Gateway:ApiKeysFile:tenants:umbrella:key is not a setting of a tenant")]
    [InlineData("""{ "tenants": { "acme": { "tier": "gold", "keys": ["a-new-key-of-acme-that-is-long-enough"] } } }""", "Gateway:ApiKeysFile:tenants:acme: tenant 'acme' is also in Gateway:Tenants")]
    public async Task ApiKeysFile_InvalidRewrite_RefusedAndLoggedWhileTheLastGoodKeysServe(string invalid, string expected)
    {
        // Arrange: the demo tenants stay configured, so the last case collides with one.
        var path = Write("api-keys.json", TenantsFile(("umbrella", "gold", [OldKey])));
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        await using var gateway = await StartAsync(payments.Address, path, keepConfiguredTenants: true);
        var client = Client(gateway);

        // Act
        File.WriteAllText(path, invalid);
        _time.Advance(CheckInterval);
        // A second look at the same bad content logs nothing more.
        _time.Advance(CheckInterval);
        await CallAsync(client, OldKey);
        await CallAsync(client, DemoTenants.AcmeKey);

        // Assert
        var refused = Assert.Single(gateway.Services.GetFakeLogCollector().GetSnapshot(), r => r.Id.Name == "ApiKeysFileRejected");
        Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(OldKey, refused.Message, StringComparison.Ordinal);
        Assert.Equal(2, payments.Calls.Count);
    }

    [Fact]
    public async Task Start_ProductionFileWithDemoShortAndDemoHashKeys_FailsNamingEachTenantNeverTheKey()
    {
        // Arrange: a demo key itself, a short key, and a demo key's stored hash.
        var path = Write("api-keys.json", $$"""
            { "tenants": {
                "umbrella": { "tier": "gold", "keys": ["{{ApiKeyHash.Format(OldKey)}}", "{{DemoTenants.AcmeKey}}"] },
                "hooli": { "tier": "silver", "keys": ["short-but-unique-key"] },
                "initrode": { "tier": "bronze", "keys": ["{{ApiKeyHash.Format(DemoTenants.GlobexKey)}}"] } } }
            """);
        var closed = GatewayHost.ClosedPort();
        var settings = WithoutConfiguredTenants(GatewayHost.Settings(closed, closed, closed, new Dictionary<string, string?> { ["Gateway:ApiKeysFile"] = path }));

        // Act
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            KestrelHost.StartAsync(GatewayApp.Build, settings, RemoveConfiguredTenants, Environments.Production));

        // Assert
        Assert.Contains("Gateway:ApiKeysFile:tenants:umbrella:keys:1 of tenant 'umbrella' is one of the demo keys this repository ships: Production refuses them", error.Message, StringComparison.Ordinal);
        Assert.Contains("Gateway:ApiKeysFile:tenants:hooli:keys:0 of tenant 'hooli' has 20 characters: Production needs at least 32", error.Message, StringComparison.Ordinal);
        Assert.Contains("Gateway:ApiKeysFile:tenants:initrode:keys:0 of tenant 'initrode' is one of the demo keys", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("umbrella:keys:0", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(DemoTenants.AcmeKey, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("short-but-unique-key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiKeysFile_ProductionRewriteWithDemoKeyHash_RefusedAndTheLastGoodKeysServe()
    {
        // Arrange
        var path = Write("api-keys.json", TenantsFile(("umbrella", "gold", [OldKey])));
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        await using var gateway = await StartAsync(payments.Address, path, environment: Environments.Production);
        var client = Client(gateway);

        // Act
        Write("api-keys.json", TenantsFile(("umbrella", "gold", [OldKey]), ("hooli", "gold", [DemoTenants.AcmeKey])));
        _time.Advance(CheckInterval);
        await CallAsync(client, OldKey);
        var demo = await Assert.ThrowsAsync<RpcException>(() => CallAsync(client, DemoTenants.AcmeKey));

        // Assert
        Assert.Equal(StatusCode.Unauthenticated, demo.StatusCode);
        var refused = Assert.Single(gateway.Services.GetFakeLogCollector().GetSnapshot(), r => r.Id.Name == "ApiKeysFileRejected");
        Assert.Contains("of tenant 'hooli' is one of the demo keys", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(DemoTenants.AcmeKey, refused.Message, StringComparison.Ordinal);
    }

    private static string NewKey() => Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    /// <summary>A <c>tenants</c>-format file: each tenant's keys as their stored hashes.</summary>
    private static string TenantsFile(params (string Id, string Tier, string[] Keys)[] tenants) =>
        "{ \"tenants\": { " + string.Join(", ", tenants.Select(t =>
            $"\"{t.Id}\": {{ \"tier\": \"{t.Tier}\", \"keys\": [{string.Join(", ", t.Keys.Select(k => $"\"{ApiKeyHash.Format(k)}\""))}] }}")) + " } }";

    /// <summary>Drops the demo tenants KestrelHost configures for every host (DemoProfile): the file alone defines the tenants.</summary>
    private static void RemoveConfiguredTenants(WebApplicationBuilder builder)
    {
        var sources = ((IConfigurationBuilder)builder.Configuration).Sources;
        for (var i = 0; i < sources.Count; i++)
        {
            if (sources[i] is MemoryConfigurationSource { InitialData: { } data } && data.Any(kv => IsTenantSetting(kv.Key)))
            {
                sources[i] = new MemoryConfigurationSource { InitialData = [.. data.Where(kv => !IsTenantSetting(kv.Key))] };
            }
        }
    }

    private static bool IsTenantSetting(string key) => key.StartsWith("Gateway:Tenants:", StringComparison.Ordinal);

    private static Dictionary<string, string?> WithoutConfiguredTenants(Dictionary<string, string?> settings)
    {
        foreach (var key in settings.Keys.Where(IsTenantSetting).ToList())
        {
            settings.Remove(key);
        }

        return settings;
    }

    private static PaymentsService.PaymentsServiceClient Client(KestrelHost gateway) => new(gateway.CreateChannel());

    private static Task<GetBalanceResponse> CallAsync(PaymentsService.PaymentsServiceClient client, string key) =>
        client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, DemoTenants.Headers(key), cancellationToken: Ct).ResponseAsync.DefaultTimeout();

    private string Write(string relativePath, string content)
    {
        var path = Path.Combine(_directory, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Written beside and renamed: the watcher never reads half a file (kubelet's writes are atomic too).
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, content);
        File.Move(temporary, path, overwrite: true);
        return path;
    }

    /// <summary>rename(2) of a symlink over another, as kubelet swaps <c>..data</c> (mv -T: never into the linked directory).</summary>
    private async Task RenameAsync(string from, string to)
    {
        using var mv = Process.Start(new ProcessStartInfo("mv", ["-T", from, to]) { WorkingDirectory = _directory })!;
        await mv.WaitForExitAsync(Ct).DefaultTimeout();
        Assert.Equal(0, mv.ExitCode);
    }

    private Task<KestrelHost> StartAsync(Uri payments, string keysFile, bool keepConfiguredTenants = false, string environment = KestrelHost.TestEnvironment)
    {
        var closed = GatewayHost.ClosedPort();
        var settings = GatewayHost.Settings(payments, closed, closed, new Dictionary<string, string?>
        {
            ["Gateway:ApiKeysFile"] = keysFile,
            ["Gateway:ApiKeysFileCheckInterval"] = CheckInterval.ToString(),
        });
        return KestrelHost.StartAsync(GatewayApp.Build, keepConfiguredTenants ? settings : WithoutConfiguredTenants(settings), b =>
        {
            if (!keepConfiguredTenants)
            {
                RemoveConfiguredTenants(b);
            }

            b.Services.Replace(ServiceDescriptor.Singleton<TimeProvider>(_time));
            b.Services.AddFakeLogging();
        }, environment);
    }
}
