using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Grpc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Concurrency.Tests.DependencyInjection;

public sealed class BulkheadsBuilderTests
{
    private const string Prefix = "/meshbulkheads.render.v1.RenderService/";

    private static readonly DeadlineOptions s_codeDeadline = new() { Default = TimeSpan.FromSeconds(10), Max = TimeSpan.FromSeconds(60) };

    private static ServiceProvider Build(Dictionary<string, string?> settings, Action<IBulkheadsBuilder> configure)
    {
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        configure(services.AddBulkheads().AddBulkhead("render", o => o.MaxQueueTime = TimeSpan.FromSeconds(2)));
        return services.BuildServiceProvider();
    }

    [Fact]
    public void MapMethods_WithDeadline_RoutesAndRegistersCodeDefault()
    {
        // Arrange
        using var services = Build([], b => b.MapMethods(Prefix, "render", s_codeDeadline));

        // Act
        var route = services.GetRequiredService<IOptions<BulkheadRoutingOptions>>().Value.Resolve(Prefix + "Render");
        var deadline = services.GetRequiredService<IOptions<DeadlinePolicyOptions>>().Value.Resolve(Prefix + "Render");

        // Assert
        Assert.Equal("render", route);
        Assert.Equal(TimeSpan.FromSeconds(10), deadline.Default);
        Assert.Equal(TimeSpan.FromSeconds(60), deadline.Max);
    }

    [Fact]
    public void AddDeadline_ConfigurationSetsOnlyDefault_OverridesDefaultKeepsCodeMax()
    {
        // Arrange
        using var services = Build(
            new() { [$"Deadlines:Methods:{Prefix}:Default"] = "00:00:03" },
            b => b.AddDeadline(Prefix, s_codeDeadline));

        // Act
        var deadline = services.GetRequiredService<IOptions<DeadlinePolicyOptions>>().Value.Resolve(Prefix + "Render");

        // Assert: configuration wins key by key.
        Assert.Equal(TimeSpan.FromSeconds(3), deadline.Default);
        Assert.Equal(TimeSpan.FromSeconds(60), deadline.Max);
    }

    [Fact]
    public void AddDeadline_SamePrefixTwice_Throws()
    {
        // Arrange
        var builder = new ServiceCollection().AddBulkheads().AddDeadline(Prefix, s_codeDeadline);

        // Act
        var error = Assert.Throws<InvalidOperationException>(() => builder.AddDeadline(Prefix, s_codeDeadline));

        // Assert
        Assert.Contains(Prefix, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DeclareMethods_NotRoutedButChecked_InterceptorLeavesItAndStartupRuleApplies()
    {
        // Arrange: the bulkhead's MaxQueueTime (2 s) is not below the declared method's default deadline (1 s).
        using var services = Build(
            [],
            b => b.DeclareMethods(Prefix, "render", new DeadlineOptions { Default = TimeSpan.FromSeconds(1), Max = TimeSpan.FromSeconds(5) }));

        // Act
        var routing = services.GetRequiredService<IOptions<BulkheadRoutingOptions>>().Value;
        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<DeadlinePolicyOptions>>().Value);

        // Assert
        Assert.Null(routing.Resolve(Prefix + "Render"));
        Assert.Equal("render", routing.Declared[Prefix]);
        Assert.Contains("Bulkheads:render:MaxQueueTime (00:00:02)", error.Message, StringComparison.Ordinal);
        Assert.Contains($"Deadlines:Methods:{Prefix}:Default (00:00:01)", error.Message, StringComparison.Ordinal);
        Assert.Contains("declared with DeclareMethods", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DeclareMethods_ConfigurationRaisesDeadline_Valid()
    {
        // Arrange
        using var services = Build(
            new() { [$"Deadlines:Methods:{Prefix}:Default"] = "00:00:04" },
            b => b.DeclareMethods(Prefix, "render", new DeadlineOptions { Default = TimeSpan.FromSeconds(1), Max = TimeSpan.FromSeconds(5) }));

        // Act
        var deadline = services.GetRequiredService<IOptions<DeadlinePolicyOptions>>().Value.Resolve(Prefix + "Render");

        // Assert
        Assert.Equal(TimeSpan.FromSeconds(4), deadline.Default);
    }

    [Theory]
    [InlineData(null, BulkheadCriticality.Critical)]
    [InlineData("Sheddable", BulkheadCriticality.Sheddable)]
    [InlineData("Critical", BulkheadCriticality.Critical)]
    public void DefaultCriticality_Configuration_BoundFromCriticalitySection(string? configured, BulkheadCriticality expected)
    {
        // Arrange
        using var services = Build(new() { ["Criticality:Default"] = configured }, _ => { });

        // Act
        var criticality = services.GetRequiredService<IOptions<MeshBulkheads.Concurrency.Rejections.CriticalityOptions>>().Value.Default;

        // Assert
        Assert.Equal(expected, criticality);
    }

    [Fact]
    public void DefaultCriticality_RemovedBulkheadsKeySet_FailsNamingTheNewKey()
    {
        // Arrange: the old key would otherwise be ignored without a word (every call then keeps Criticality:Default).
        using var services = Build(new() { ["Bulkheads:DefaultCriticality"] = "Sheddable" }, _ => { });

        // Act
        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<MeshBulkheads.Concurrency.Rejections.CriticalityOptions>>().Value);

        // Assert
        Assert.Contains("Bulkheads:DefaultCriticality was removed: set Criticality:Default", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddBulkhead_NamedDefaultCriticality_ThrowsReserved()
    {
        // Arrange
        var builder = new ServiceCollection().AddBulkheads();

        // Act
        var error = Assert.Throws<ArgumentException>(() => builder.AddBulkhead("DefaultCriticality"));

        // Assert
        Assert.Contains("reserved", error.Message, StringComparison.Ordinal);
    }
}
