using MeshBulkheads.ServiceDefaults.Health;

namespace MeshBulkheads.Payments.Tests.Shutdown;

/// <summary>
/// During <c>Mesh:ShutdownDelay</c> the process is not ready (load balancers stop picking it) but keeps
/// serving what still arrives; charges are refused <c>shutting-down</c> only once the delay has passed.
/// </summary>
public sealed class ShutdownDrainTests : PaymentsHostTests
{
    [Fact]
    public async Task Charge_DuringTheDrainDelay_ServedNotRefused()
    {
        // Arrange: a long delay, so the charge surely lands inside it.
        var host = await Scope.StartSqliteAsync(new Dictionary<string, string?> { ["Mesh:ShutdownDelay"] = "00:00:10" });
        var client = PaymentsHostScope.Client(host, Tenant);
        var readiness = host.Services.GetRequiredService<ReadinessState>();
        var stopping = host.App.StopAsync(Ct);
        await Conditions.WaitUntilAsync(() => !readiness.IsReady);

        // Act
        var reply = await client.ChargeAsync(PaymentsHostScope.Charge("acct-drain", 100), cancellationToken: Ct);

        // Assert
        Assert.False(string.IsNullOrEmpty(reply.PaymentId));
        Assert.False(stopping.IsCompleted);
    }
}
