using Grpc.Health.V1;
using Grpc.Net.Client;

namespace MeshBulkheads.EndToEnd.Tests.AppHost;

/// <summary>`make run`'s AppHost starts the whole mesh and the gateway answers gRPC on its fixed port.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class AppHostSmokeTests(AppHostFixture fixture) : IClassFixture<AppHostFixture>
{
    [Fact]
    public async Task GatewayGrpcPort_AppHostRunning_AnswersHealthCheckServing()
    {
        // Arrange
        // One gRPC call through the gateway's non-proxied h2c port (the business call joins once the
        // services implement their methods).
        using var channel = GrpcChannel.ForAddress(fixture.GatewayGrpc);
        var client = new Health.HealthClient(channel);

        // Act
        var response = await client.CheckAsync(
            new HealthCheckRequest(),
            deadline: DateTime.UtcNow.AddSeconds(10),
            cancellationToken: TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }
}
