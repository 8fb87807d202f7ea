using System.Net;
using Grpc.Health.V1;

namespace MeshBulkheads.EndToEnd.Tests.Processes;

/// <summary>The gateway and the three services as four real processes, wired as in production.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class MeshProcessesTests(MeshProcessesFixture fixture) : IClassFixture<MeshProcessesFixture>, IDisposable
{
    public static TheoryData<string> Projects =>
    [
        MeshProcesses.GatewayProject,
        MeshProcesses.PaymentsProject,
        MeshProcesses.ReportingProject,
        MeshProcesses.RenderProject,
    ];

    public static TheoryData<string> HealthServices => ["", "meshbulkheads.liveness", "meshbulkheads.readiness"];

    [Theory]
    [MemberData(nameof(Projects))]
    public async Task AdminPort_ChildProcess_ServesHealthzReadyzAndMetrics(string project)
    {
        // Arrange
        var process = fixture.Mesh.All.Single(p => p.ProjectName == project);
        using var admin = process.CreateAdminClient();
        var ct = TestContext.Current.CancellationToken;

        // Act
        using var healthz = await admin.GetAsync(new Uri("/healthz", UriKind.Relative), ct).DefaultTimeout();
        using var readyz = await admin.GetAsync(new Uri("/readyz", UriKind.Relative), ct).DefaultTimeout();
        using var metrics = await admin.GetAsync(new Uri("/metrics", UriKind.Relative), ct).DefaultTimeout();
        var metricsText = await metrics.Content.ReadAsStringAsync(ct).DefaultTimeout();

        // Assert
        Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
        Assert.Equal(HttpStatusCode.OK, readyz.StatusCode);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Equal("text/plain", metrics.Content.Headers.ContentType?.MediaType);
        Assert.Contains("target_info", metricsText, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(HealthServices))]
    public async Task GrpcHealthCheck_GatewayProcess_ReturnsServing(string service)
    {
        // Arrange
        var client = new Health.HealthClient(fixture.Mesh.Gateway.CreateChannel());

        // Act
        var response = await client.CheckAsync(
            new HealthCheckRequest { Service = service },
            deadline: DateTime.UtcNow.AddSeconds(10),
            cancellationToken: TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    public void Dispose() => fixture.Mesh.ReportOutputIfTestFailed();
}
