using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using MeshBulkheads.Reporting.Payments;
using MeshBulkheads.Reporting.Tests.Fakes;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Reporting.Tests.Payments;

/// <summary>Reporting's payments address: http:// as before, or dns:///host:port balanced round-robin with a refreshing resolver.</summary>
public sealed class PaymentsChannelTests
{
    [Theory]
    [InlineData("http://127.0.0.1:8081", true)]
    [InlineData("https://payments:8081", true)]
    [InlineData("dns:///payments-headless:8081", true)]
    [InlineData("dns:///payments-headless.ns.svc.cluster.local:8081", true)]
    [InlineData("dns:///payments-headless", false)]
    [InlineData("dns:///payments-headless:0", false)]
    [InlineData("dns://8.8.8.8/payments-headless:8081", false)]
    [InlineData("payments:8081", false)]
    [InlineData("ftp://payments:8081", false)]
    public void IsValidAddress_Address_AcceptsHttpAndDnsWithPort(string address, bool valid) =>
        Assert.Equal(valid, PaymentsChannel.IsValidAddress(address));

    [Fact]
    public void CreateServiceConfig_DnsAddress_RoundRobinAndTheRetryPolicy()
    {
        // Act
        var dns = PaymentsChannel.CreateServiceConfig("dns:///payments-headless:8081");
        var http = PaymentsChannel.CreateServiceConfig("http://127.0.0.1:8081");

        // Assert
        Assert.IsType<RoundRobinConfig>(Assert.Single(dns.LoadBalancingConfigs));
        Assert.Empty(http.LoadBalancingConfigs);
        Assert.Equal(PaymentsClientConfig.MaxAttempts, Assert.Single(dns.MethodConfigs).RetryPolicy!.MaxAttempts);
    }

    [Fact]
    public async Task Start_DnsAddressWithoutPort_FailsNamingTheKey()
    {
        // Act
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => KestrelHost.StartAsync(ReportingApp.Build, new Dictionary<string, string?>
        {
            ["Reporting:PaymentsAddress"] = "dns:///payments-headless",
        }));

        // Assert
        Assert.Contains("Reporting:PaymentsAddress", error.Message, StringComparison.Ordinal);
        Assert.Contains("dns:///<host>:<port>", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BuildReport_DnsAddressOfLocalhost_ReachesPaymentsThroughTheRefreshingResolver()
    {
        // Arrange: the real grpc-dotnet DNS resolver (no test stand-in), insecure h2c over dns:.
        await using var payments = await FakePaymentsServer.StartAsync();
        payments.Service.Accounts["acct-0001"] = (100, 1, "USD");
        await using var host = await KestrelHost.StartAsync(ReportingApp.Build, new Dictionary<string, string?>
        {
            ["Reporting:PaymentsAddress"] = $"dns:///127.0.0.1:{payments.Address.Port}",
            ["Reporting:PaymentsDnsRefreshInterval"] = "00:00:02",
        });
        var client = new MeshBulkheads.Contracts.Reporting.V1.ReportingService.ReportingServiceClient(host.CreateChannel());
        var request = new MeshBulkheads.Contracts.Reporting.V1.BuildReportRequest();
        request.AccountIds.Add("acct-0001");

        // Act
        var response = await client.BuildReportAsync(request, ReportingTestHost.Tenant(), cancellationToken: TestContext.Current.CancellationToken).ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal("acct-0001", Assert.Single(response.Accounts).AccountId);
        var factory = Assert.Single(host.Services.GetServices<ResolverFactory>());
        Assert.Equal("dns", factory.Name);
    }
}
