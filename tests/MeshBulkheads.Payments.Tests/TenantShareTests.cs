using MeshBulkheads.Concurrency.Bulkheads;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Payments.Tests;

/// <summary>Payments' bulkheads bound what one tenant may hold (README, "Defaults and why").</summary>
public sealed class TenantShareTests
{
    [Theory]
    [InlineData(PaymentsBulkheads.Charge)]
    [InlineData(PaymentsBulkheads.Read)]
    public void AddPaymentsBulkheads_EachBulkhead_SetsTenantMaxShareToHalf(string bulkhead)
    {
        // Arrange
        using var services = new ServiceCollection().AddLogging().AddMetrics().AddPaymentsBulkheads().BuildServiceProvider();

        // Act
        var options = services.GetRequiredService<IOptionsMonitor<BulkheadOptions>>().Get(bulkhead);

        // Assert: one tenant holds at most half of the permits + queue slots
        Assert.Equal(0.5, options.TenantMaxShare);
    }
}
