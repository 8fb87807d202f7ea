using MeshBulkheads.ServiceDefaults.Tests.Hosting;
using MeshBulkheads.ServiceDefaults.Grpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.ServiceDefaults.Tests.Telemetry;

/// <summary><c>Mesh:Metrics</c> and <c>Mesh:Tracing</c> through their validated options classes.</summary>
[Collection(ProcessMetricsCollection.Name)]
public class MeshTelemetryOptionsTests
{
    private static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults("test", 0, 0);
        builder.Services.AddGrpc(o => o.AddMeshMetricsInterceptor());
        configure?.Invoke(builder);
        var app = builder.Build();
        app.MapDefaultEndpoints();
        return app;
    }

    [Fact]
    public async Task Start_SamplingRatioAboveOne_FailsNamingTheSetting()
    {
        // Arrange
        var settings = new Dictionary<string, string?> { ["Mesh:Tracing:SamplingRatio"] = "1.5" };

        // Act
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => KestrelHost.StartAsync(Build, settings));

        // Assert
        Assert.Contains("SamplingRatio", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_MetricsAndTracingSections_BoundToTheirOptions()
    {
        // Arrange
        var settings = new Dictionary<string, string?> { ["Mesh:Tracing:SamplingRatio"] = "0.25", ["Mesh:Metrics:Exemplars"] = "false" };

        // Act
        await using var host = await KestrelHost.StartAsync(Build, settings);

        // Assert
        Assert.Equal(0.25, host.Services.GetRequiredService<IOptions<MeshTracingOptions>>().Value.SamplingRatio);
        Assert.False(host.Services.GetRequiredService<IOptions<MeshMetricsOptions>>().Value.Exemplars);
    }
}
