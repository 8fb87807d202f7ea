using MeshBulkheads.Contracts.Identity;
using MeshBulkheads.ServiceDefaults.Identity;
using MeshBulkheads.ServiceDefaults.Identity.Internal;

namespace MeshBulkheads.ServiceDefaults.Tests.Identity;

public sealed class MeshIdentityOptionsValidatorTests
{
    [Fact]
    public void Validate_NoKeys_FailsNamingTheSettingAndHowToGetKeys()
    {
        // Act
        var result = new MeshIdentityOptionsValidator().Validate(null, new MeshIdentityOptions { Audience = "payments" });

        // Assert
        Assert.True(result.Failed);
        Assert.Contains("Mesh:Identity:Keys is empty", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("make run", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("K1", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "a key id must be")]
    [InlineData("k1", "c2hvcnQ=", "is not the base64 of at least 32 bytes")]
    [InlineData("k1", "not base64 at all", "is not the base64 of at least 32 bytes")]
    public void Validate_BadKeyIdOrKey_FailsNamingTheKeyIdNeverTheKey(string keyId, string key, string expected)
    {
        // Arrange
        var options = new MeshIdentityOptions { Audience = "payments", Keys = { [keyId] = key } };

        // Act
        var result = new MeshIdentityOptionsValidator().Validate(null, options);

        // Assert
        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain(key, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_TwoGoodKeys_Succeeds()
    {
        // Arrange
        var options = new MeshIdentityOptions { Audience = "payments", Keys = { ["k1"] = MeshIdentityToken.NewKey(), ["k2"] = MeshIdentityToken.NewKey() } };

        // Act
        var result = new MeshIdentityOptionsValidator().Validate(null, options);

        // Assert
        Assert.True(result.Succeeded);
    }
}
