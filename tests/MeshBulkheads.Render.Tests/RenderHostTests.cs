
namespace MeshBulkheads.Render.Tests;

public class RenderHostTests
{
    [Fact]
    public async Task AdminPort_Healthz_ReturnsHealthy()
    {
        // Arrange
        await using var host = await KestrelHost.StartAsync(RenderApp.Build);
        using var admin = host.CreateAdminClient();

        // Act
        using var response = await admin.GetAsync(new Uri("/healthz", UriKind.Relative), TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Metrics_FromStartUp_ExportsRenderBulkheadFamily()
    {
        // Arrange
        await using var host = await KestrelHost.StartAsync(RenderApp.Build, new Dictionary<string, string?> { ["Render:WorkerCount"] = "2" });
        using var admin = host.CreateAdminClient();

        // Act
        var text = await admin.GetStringAsync(new Uri("/metrics", UriKind.Relative), TestContext.Current.CancellationToken);

        // Assert: the names the autoscaler and dashboards use, labelled with the bulkhead. Values are not
        // compared here: OpenTelemetry listens process-wide, so parallel in-process hosts share instruments.
        var lines = text.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("meshbulkheads_bulkhead_permit_limit{", StringComparison.Ordinal)
            && l.Contains("meshbulkheads_bulkhead=\"render\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("meshbulkheads_bulkhead_queue_oldest_age_seconds{", StringComparison.Ordinal)
            && l.Contains("meshbulkheads_bulkhead=\"render\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("meshbulkheads_render_workers_permit_limit", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Build_MaxQueueTimeNotBelowDefaultDeadline_FailsNamingSettings()
    {
        // Arrange
        var configuration = new Dictionary<string, string?>
        {
            ["Bulkheads:render:MaxQueueTime"] = "00:00:10",
            ["Deadlines:Methods:/meshbulkheads.render.v1.RenderService/:Default"] = "00:00:10",
        };

        // Act
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => KestrelHost.StartAsync(RenderApp.Build, configuration));

        // Assert
        // Checked by the library (render declares its method with DeclareMethods); the message names both keys.
        Assert.Contains("Bulkheads:render:MaxQueueTime (00:00:10)", error.Message, StringComparison.Ordinal);
        Assert.Contains("Deadlines:Methods:/meshbulkheads.render.v1.RenderService/:Default (00:00:10)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Build_RenderPermitLimitSetDirectly_FailsNamingRenderWorkerCount()
    {
        // Arrange: the render bulkhead's permits are its workers; they have one key, Render:WorkerCount.
        var configuration = new Dictionary<string, string?> { ["Bulkheads:render:PermitLimit"] = "8" };

        // Act
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => KestrelHost.StartAsync(RenderApp.Build, configuration));

        // Assert
        Assert.Contains("Bulkheads:render:PermitLimit (8) is derived (one permit per render worker) and cannot be set: set Render:WorkerCount instead.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Build_WorkerCount_IsTheRenderBulkheadPermitLimit()
    {
        // Arrange
        var configuration = new Dictionary<string, string?> { ["Render:WorkerCount"] = "3", ["Bulkheads:render:QueueLimit"] = "5" };

        // Act
        await using var host = await KestrelHost.StartAsync(RenderApp.Build, configuration);
        var bulkhead = host.Services.GetRequiredService<MeshBulkheads.Concurrency.Bulkheads.IBulkheadProvider>().Get(RenderBulkheads.Name);

        // Assert
        Assert.Equal(3, bulkhead.Options.PermitLimit);
        Assert.Equal(5, bulkhead.Options.QueueLimit);
    }
}
