using Microsoft.Extensions.Options;

namespace MeshBulkheads.Concurrency.Tests.Bulkheads;

/// <summary><see cref="IBulkheadProvider.GetOrAdd"/>: bulkheads named by the final configuration (the gateway's routes).</summary>
public sealed class BulkheadProviderGetOrAddTests
{
    private static ServiceProvider Create(Action<OptionsBuilder<BulkheadOptions>> configure)
    {
        var services = new ServiceCollection().AddFakeLogging();
        services.AddBulkheads().AddBulkhead("registered");
        configure(services.AddOptions<BulkheadOptions>("late"));
        return services.BuildServiceProvider();
    }

    [Fact]
    public void GetOrAdd_NameNotRegistered_CreatesItOnceFromItsNamedOptions()
    {
        // Arrange
        using var services = Create(o => o.Configure(b => b.PermitLimit = 7));
        var provider = services.GetRequiredService<IBulkheadProvider>();

        // Act
        var first = provider.GetOrAdd("late");
        var second = provider.GetOrAdd("LATE");

        // Assert
        Assert.Same(first, second);
        Assert.Equal(7, first.PermitLimit);
        Assert.True(provider.TryGet("late", out _));
        Assert.Contains("late", provider.Names);
        Assert.Same(provider.Get("registered"), provider.GetOrAdd("registered"));
    }

    [Fact]
    public void GetOrAdd_InvalidOptionsThenFixed_ThrowsNamingTheSettingAndCreatesOnTheNextCall()
    {
        // Arrange: the options are invalid until `valid` is set (as a configuration fix would).
        var valid = false;
        using var services = Create(o => o.Configure(b => b.PermitLimit = valid ? 3 : 0));
        var provider = services.GetRequiredService<IBulkheadProvider>();

        // Act
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetOrAdd("late"));
        var createdWhileInvalid = provider.TryGet("late", out _);
        valid = true;
        var bulkhead = provider.GetOrAdd("late");

        // Assert
        Assert.Contains("Bulkheads:late:PermitLimit", error.Message, StringComparison.Ordinal);
        Assert.False(createdWhileInvalid);
        Assert.Equal(3, bulkhead.PermitLimit);
    }
}
