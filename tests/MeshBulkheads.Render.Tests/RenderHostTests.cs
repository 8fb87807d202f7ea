using MeshBulkheads.Testing;
using Microsoft.Extensions.Options;

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
        await using var host = await KestrelHost.StartAsync(RenderApp.Build, new Dictionary<string, string?> { ["Render:Workers"] = "2" });
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
        Assert.Contains(lines, l => l.StartsWith("meshbulkheads_render_workers_limit", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Build_MaxQueueTimeNotBelowDefaultDeadline_FailsNamingSettings()
    {
        // Arrange
        var configuration = new Dictionary<string, string?>
        {
            ["Render:MaxQueueTime"] = "00:00:10",
            ["Deadlines:Methods:/meshbulkheads.render.v1.RenderService/:Default"] = "00:00:10",
        };

        // Act
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => KestrelHost.StartAsync(RenderApp.Build, configuration));

        // Assert
        // Checked by the library (render declares its method with DeclareMethods); Render:MaxQueueTime is applied
        // as Bulkheads:render:MaxQueueTime, which the message names with the deadline key.
        Assert.Contains("Bulkheads:render:MaxQueueTime (00:00:10)", error.Message, StringComparison.Ordinal);
        Assert.Contains("Deadlines:Methods:/meshbulkheads.render.v1.RenderService/:Default (00:00:10)", error.Message, StringComparison.Ordinal);
    }
}
