using System.Net;
using System.Net.Http.Headers;
using System.Text;
using MeshBulkheads.ServiceDefaults.Faults;

namespace MeshBulkheads.Render.Tests.Faults;

/// <summary>The render-worker fault point (docs/faults.md): injected on the worker thread, before the render job.</summary>
public sealed class RenderWorkerFaultTests
{
    private const string Token = "render-worker-fault-tests-admin-token-01";

    [Fact]
    public async Task Put_RenderWorkerError_RendersFailOnTheWorkerUntilDelete()
    {
        // Arrange
        using var observer = new RecordingRenderObserver();
        await using var render = await RenderTestHost.StartAsync(observer, new Dictionary<string, string?> { ["Mesh:Admin:Token"] = Token });
        using var admin = render.Host.CreateAdminClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);

        // Act
        using var put = await admin.PutAsync(
            FaultEndpoints.Path,
            new StringContent("""{"faults":[{"kind":"error","target":"render-worker","status":"INTERNAL","expiresInSeconds":30}]}""", Encoding.UTF8, "application/json"),
            TestContext.Current.CancellationToken);
        var error = await Assert.ThrowsAsync<RpcException>(() => render.Render().ResponseAsync.DefaultTimeout());
        using var delete = await admin.DeleteAsync(FaultEndpoints.Path, TestContext.Current.CancellationToken);
        var after = await render.Render().ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(StatusCode.Internal, error.StatusCode);
        Assert.Equal(FaultTargets.RenderWorker, error.Trailers.GetValue(FaultPipelines.FaultMetadata));
        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        Assert.NotEmpty(after.Sha256);
    }
}
