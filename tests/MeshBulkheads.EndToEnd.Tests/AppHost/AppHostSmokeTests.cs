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

    [Fact]
    public async Task BuildReport_ThroughGateway_CrossesGatewayReportingAndPayments()
    {
        // Arrange: one business call that crosses all three hops the AppHost wired together.
        using var channel = GrpcChannel.ForAddress(fixture.GatewayGrpc);
        var client = new ReportingService.ReportingServiceClient(channel);
        var headers = new Metadata { { "x-api-key", DemoTenants.AcmeKey } };

        // Act
        var report = await client.BuildReportAsync(
            new BuildReportRequest { AccountIds = { "acct-0001", "acct-0002" } },
            headers,
            deadline: DateTime.UtcNow.AddSeconds(15),
            cancellationToken: TestContext.Current.CancellationToken);

        // Assert: the seeded accounts exist and the total adds up.
        Assert.Equal(["acct-0001", "acct-0002"], report.Accounts.Select(a => a.AccountId));
        Assert.All(report.Accounts, a => Assert.True(a.BalanceMinor > 0));
        Assert.Equal(report.Accounts.Sum(a => a.BalanceMinor), report.TotalMinor);
    }
}
