using MeshBulkheads.Gateway.Tenancy;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Gateway.Tests.Tenancy;

/// <summary>The key lookup on its own: the key is encoded on the stack (or a pooled array past the stack bound), never kept.</summary>
public class ApiKeyAuthenticatorTests
{
    [Theory]
    [InlineData("acme-dev-key", "acme")]
    [InlineData("clé-ünïcödé-ключ-鍵", "unicode")]
    public void Authenticate_ConfiguredKey_ItsTenant(string key, string tenant)
    {
        // Arrange
        using var authenticator = Authenticator(("acme", "acme-dev-key"), ("unicode", "clé-ünïcödé-ключ-鍵"), ("long", new string('k', 4000)));

        // Act
        var found = authenticator.Authenticate(key);

        // Assert
        Assert.Equal(tenant, found?.Id);
    }

    [Fact]
    public void Authenticate_KeyLongerThanTheStackBound_MatchedThroughThePooledBuffer()
    {
        // Arrange: 4000 three-byte characters are 12,000 UTF-8 bytes, far past the 768 bytes encoded on the stack.
        var longKey = new string('鍵', 4000);
        using var authenticator = Authenticator(("acme", "acme-dev-key"), ("long", longKey));

        // Act
        var found = authenticator.Authenticate(longKey);
        var almost = authenticator.Authenticate(longKey[..^1] + "k");

        // Assert
        Assert.Equal("long", found?.Id);
        Assert.Null(almost);
    }

    [Theory]
    [InlineData("")]
    [InlineData("acme-dev-key ")]
    [InlineData("ACME-DEV-KEY")]
    [InlineData("acme-dev-ke")]
    public void Authenticate_AnyOtherKey_Null(string key)
    {
        // Arrange
        using var authenticator = Authenticator(("acme", "acme-dev-key"));

        // Act
        var found = authenticator.Authenticate(key);

        // Assert
        Assert.Null(found);
    }

    private static ApiKeyAuthenticator Authenticator(params (string Id, string Key)[] tenants) =>
        new(new StaticOptionsMonitor(new GatewayTenancyOptions
        {
            Tenants = [.. tenants.Select(t => new TenantConfig { Id = t.Id, Tier = TenantTiers.Gold, ApiKey = t.Key })],
        }));

    private sealed class StaticOptionsMonitor(GatewayTenancyOptions value) : IOptionsMonitor<GatewayTenancyOptions>
    {
        public GatewayTenancyOptions CurrentValue => value;

        public GatewayTenancyOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<GatewayTenancyOptions, string?> listener) => null;
    }
}
