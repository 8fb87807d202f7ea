using MeshBulkheads.Gateway.Policy;
using MeshBulkheads.Gateway.Policy.Internal;
using Microsoft.Extensions.Configuration;

namespace MeshBulkheads.Gateway.Tests.Policy;

public class GatewayPolicyOptionsValidatorTests
{
    private static GatewayPolicyOptions Valid() => new()
    {
        Tiers =
        {
            ["gold"] = new TokenBucketLimit { TokensPerSecond = 100, Burst = 200 },
            ["silver"] = new TokenBucketLimit { TokensPerSecond = 50, Burst = 100 },
            ["bronze"] = new TokenBucketLimit { TokensPerSecond = 10, Burst = 20 },
        },
        RouteCosts = { ["payments"] = 1, ["render"] = 10 },
    };

    [Fact]
    public void Validate_ShippedShape_Succeeds()
    {
        // Act
        var result = new GatewayPolicyOptionsValidator().Validate(null, Valid());

        // Assert
        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Validate_UnknownAndMissingTier_FailsNamingBoth()
    {
        // Arrange
        var options = Valid();
        options.Tiers.Remove("silver");
        options.Tiers["platinum"] = new TokenBucketLimit { TokensPerSecond = 1000, Burst = 1000 };

        // Act
        var result = new GatewayPolicyOptionsValidator().Validate(null, options);

        // Assert
        Assert.Contains("Gateway:Tiers:platinum is not a known tier (gold|silver|bronze)", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Gateway:Tiers:silver is missing", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_TierGivenAPlainValue_FailsSayingItIsNotASection()
    {
        // Arrange: Gateway__Tiers__silver=50 (a value where TokensPerSecond and Burst are expected), bound as at start.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:Tiers:gold:TokensPerSecond"] = "100",
            ["Gateway:Tiers:gold:Burst"] = "200",
            ["Gateway:Tiers:silver"] = "50",
            ["Gateway:Tiers:bronze:TokensPerSecond"] = "10",
            ["Gateway:Tiers:bronze:Burst"] = "20",
        }).Build();
        var options = new GatewayPolicyOptions();
        configuration.GetSection(GatewayPolicyOptions.SectionName).Bind(options);

        // Act
        var result = new GatewayPolicyOptionsValidator(configuration).Validate(null, options);

        // Assert
        Assert.True(result.Failed);
        Assert.Contains("Gateway:Tiers:silver is the value '50', not a section: set Gateway:Tiers:silver:TokensPerSecond and Gateway:Tiers:silver:Burst", result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("is missing", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BronzeFasterThanSilver_FailsNamingTheOrder()
    {
        // Arrange
        var options = Valid();
        options.Tiers["bronze"].TokensPerSecond = 50;

        // Act
        var result = new GatewayPolicyOptionsValidator().Validate(null, options);

        // Assert
        Assert.Contains("Gateway:Tiers:silver:TokensPerSecond (50) must be greater than Gateway:Tiers:bronze:TokensPerSecond (50)", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_RouteCostAboveSmallestBurstAndZeroBurst_Fails()
    {
        // Arrange
        var options = Valid();
        options.RouteCosts["render"] = 21;
        options.UnauthenticatedLimit.Burst = 0;

        // Act
        var result = new GatewayPolicyOptionsValidator().Validate(null, options);

        // Assert
        Assert.Contains("Gateway:RouteCosts:render is 21: it must be between 1 and the smallest tier Burst (20)", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Gateway:UnauthenticatedLimit:Burst is 0", result.FailureMessage, StringComparison.Ordinal);
    }
}
