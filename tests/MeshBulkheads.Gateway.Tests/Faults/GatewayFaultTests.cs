using System.Net;
using System.Net.Http.Headers;
using System.Text;
using MeshBulkheads.ServiceDefaults.Faults;

namespace MeshBulkheads.Gateway.Tests.Faults;

/// <summary>The gateway takes the same faults as the services (docs/faults.md): one PUT on its admin port.</summary>
public sealed class GatewayFaultTests
{
    private const string Token = "gateway-fault-tests-admin-token-012345";

    [Fact]
    public async Task Put_ServerErrorOnPayments_AnsweredByTheGatewayAndNothingForwardedUntilDelete()
    {
        // Arrange
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        await using var gateway = await GatewayHost.StartPaymentsOnlyAsync(payments.Address, new Dictionary<string, string?> { ["Mesh:Admin:Token"] = Token });
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());
        var request = new GetBalanceRequest { AccountId = "acct-" + Guid.NewGuid().ToString("N") };
        using var admin = gateway.CreateAdminClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);

        // Act
        using var put = await admin.PutAsync(
            FaultEndpoints.Path,
            new StringContent("""{"faults":[{"kind":"error","methodPrefix":"/meshbulkheads.payments.v1.PaymentsService/","status":"UNAVAILABLE","expiresInSeconds":30}]}""", Encoding.UTF8, "application/json"),
            Ct);
        var error = await Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(request, DemoTenants.AcmeHeaders, cancellationToken: Ct).ResponseAsync.DefaultTimeout());
        var forwardedWhileFaulted = payments.CallsFor(request).Count;
        using var delete = await admin.DeleteAsync(FaultEndpoints.Path, Ct);
        await client.GetBalanceAsync(request, DemoTenants.AcmeHeaders, cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(FaultTargets.Server, error.Trailers.GetValue(FaultPipelines.FaultMetadata));
        Assert.Equal(0, forwardedWhileFaulted);
        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        Assert.Single(payments.CallsFor(request));
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;
}
