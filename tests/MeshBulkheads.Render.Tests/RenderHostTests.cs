using MeshBulkheads.Testing;

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
}
