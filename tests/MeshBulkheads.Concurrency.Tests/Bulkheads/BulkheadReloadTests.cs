using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Concurrency.Tests.Bulkheads;

public sealed class BulkheadReloadTests
{
    private static (ServiceProvider Services, IConfigurationRoot Configuration) Create(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddFakeLogging()
            .AddBulkheads()
            .AddBulkhead("render", o => o.PermitLimit = 4)
            .Services.BuildServiceProvider();
        return (services, configuration);
    }

    [Fact]
    public void Get_ConfigurationOverridesCodeDefaults_BindsBulkheadsSection()
    {
        // Arrange
        var (services, _) = Create(new() { ["Bulkheads:render:QueueLimit"] = "7" });
        using var _services = services;

        // Act
        var bulkhead = services.GetRequiredService<IBulkheadProvider>().Get("render");

        // Assert
        Assert.Equal(4, bulkhead.PermitLimit);
        Assert.Equal(7, bulkhead.Options.QueueLimit);
    }

    [Fact]
    public void Get_InvalidSettingAtStartup_ThrowsNamingTheSetting()
    {
        // Arrange
        var (services, _) = Create(new() { ["Bulkheads:render:PermitLimit"] = "0" });
        using var _services = services;

        // Act
        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IBulkheadProvider>());

        // Assert
        Assert.Contains("Bulkheads:render:PermitLimit", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddBulkhead_DuplicateName_Throws()
    {
        // Arrange
        var builder = new ServiceCollection().AddBulkheads().AddBulkhead("render");

        // Act
        var error = Assert.Throws<InvalidOperationException>(() => builder.AddBulkhead("RENDER"));

        // Assert
        Assert.Contains("render", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Reload_InvalidThenValid_KeepsLastGoodOptionsAndCountsFailure()
    {
        // Arrange
        var (services, configuration) = Create(new() { ["Bulkheads:render:PermitLimit"] = "3" });
        using var _services = services;
        var bulkhead = services.GetRequiredService<IBulkheadProvider>().Get("render");
        var meterFactory = services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var reloads = new MetricCollector<long>(meterFactory, BulkheadConstants.MeterName, "meshbulkheads.bulkhead.config.reloads");
        using var failures = new MetricCollector<long>(meterFactory, BulkheadConstants.MeterName, "meshbulkheads.bulkhead.config.reload_failures");
        var logs = services.GetFakeLogCollector();

        // Act
        configuration["Bulkheads:render:PermitLimit"] = "-5";
        configuration.Reload();
        var afterInvalid = bulkhead.PermitLimit;
        configuration["Bulkheads:render:PermitLimit"] = "9";
        configuration.Reload();

        // Assert
        Assert.Equal(3, afterInvalid);
        Assert.Equal(9, bulkhead.PermitLimit);
        var failure = Assert.Single(failures.GetMeasurementSnapshot());
        Assert.Equal("render", failure.Tags[BulkheadConstants.BulkheadTag]);
        var reload = Assert.Single(reloads.GetMeasurementSnapshot());
        Assert.Equal("render", reload.Tags[BulkheadConstants.BulkheadTag]);
        Assert.Contains(logs.GetSnapshot(), r => r.Id.Name == "ReloadRejected" && r.Message.Contains("Bulkheads:render:PermitLimit", StringComparison.Ordinal));
        Assert.Contains(logs.GetSnapshot(), r => r.Id.Name == "ReloadApplied");
    }
}
