using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Contracts.Payments.V1;
using MeshBulkheads.Gateway.Tests.Fakes;
using MeshBulkheads.Testing;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace MeshBulkheads.Gateway.Tests.Forwarding;

/// <summary>
/// <c>Gateway:Destinations:Dns</c>: configured host names become one destination per resolved address,
/// and the route's bulkhead counts the resolved destinations.
/// </summary>
public class DnsDestinationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Dictionary<string, string?> Settings(bool dns, Uri payments1, Uri payments2) => new()
    {
        ["Gateway:Destinations:Dns:Enabled"] = dns ? "true" : "false",
        ["Gateway:Destinations:Dns:RefreshPeriod"] = "00:00:01",
        // The fake backends listen on 127.0.0.1 only; IPv4 keeps the count independent of whether localhost also has ::1.
        ["Gateway:Destinations:Dns:AddressFamily"] = "IPv4",
        ["Gateway:RouteBulkheads:payments:PermitsPerDestination"] = "3",
        ["Gateway:RouteBulkheads:RefreshInterval"] = "00:00:00.050",
        [GatewayHost.Destination("payments")] = Localhost(payments1),
        ["ReverseProxy:Clusters:payments:Destinations:d2:Address"] = Localhost(payments2),
    };

    private static string Localhost(Uri address) => $"http://localhost:{address.Port}";

    private static IReadOnlyList<DestinationState> Destinations(KestrelHost gateway) =>
        gateway.Services.GetRequiredService<IProxyStateLookup>().TryGetCluster("payments", out var cluster)
            ? [.. cluster.Destinations.Values]
            : throw new InvalidOperationException("no payments cluster");

    [Fact]
    public async Task Start_DnsEnabled_OneDestinationPerResolvedAddressAndPermitsFollowThem()
    {
        // Arrange: two configured destinations, both named localhost (each resolves to its IPv4 addresses).
        var addressesPerName = (await Dns.GetHostAddressesAsync("localhost", AddressFamily.InterNetwork, Ct)).Length;
        await using var payments1 = await FakeBackend.StartAsync<FakePaymentsService>();
        await using var payments2 = await FakeBackend.StartAsync<FakePaymentsService>();
        var closed = GatewayHost.ClosedPort();
        await using var gateway = await GatewayHost.StartAsync(payments1.Address, closed, closed, Settings(dns: true, payments1.Address, payments2.Address));
        var bulkhead = gateway.Services.GetRequiredService<IBulkheadProvider>().Get("payments");

        // Act
        await WaitForPermitsAsync(bulkhead, 3 * 2 * addressesPerName);
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());
        for (var i = 0; i < 4; i++)
        {
            await client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, new Metadata { { MeshMetadata.ApiKey, GatewayHost.AcmeKey } }, cancellationToken: Ct)
                .ResponseAsync.DefaultTimeout();
        }

        // Assert: resolved destinations carry IP addresses (the name stays as the Host header), permits = 3 × destinations.
        var destinations = Destinations(gateway);
        Assert.Equal(2 * addressesPerName, destinations.Count);
        Assert.All(destinations, d =>
        {
            Assert.True(IPAddress.TryParse(new Uri(d.Model.Config.Address).Host, out _), $"{d.DestinationId} → {d.Model.Config.Address} is not an IP address");
            Assert.StartsWith("localhost:", d.Model.Config.Host, StringComparison.Ordinal);
        });
        Assert.Equal(3 * destinations.Count, bulkhead.PermitLimit);
        Assert.Equal(4, payments1.Calls.Count + payments2.Calls.Count);
    }

    [Fact]
    public async Task Start_DnsDisabled_AddressesUsedAsWritten()
    {
        // Arrange
        await using var payments1 = await FakeBackend.StartAsync<FakePaymentsService>();
        await using var payments2 = await FakeBackend.StartAsync<FakePaymentsService>();
        var closed = GatewayHost.ClosedPort();

        // Act
        await using var gateway = await GatewayHost.StartAsync(payments1.Address, closed, closed, Settings(dns: false, payments1.Address, payments2.Address));

        // Assert
        var destinations = Destinations(gateway);
        Assert.Equal(["d1", "d2"], destinations.Select(d => d.DestinationId).Order());
        Assert.All(destinations, d => Assert.StartsWith("http://localhost:", d.Model.Config.Address, StringComparison.Ordinal));
    }

    private static async Task WaitForPermitsAsync(Bulkhead bulkhead, int expected)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TaskTimeoutExtensions.DefaultTimeoutSpan);
        while (bulkhead.PermitLimit != expected)
        {
            // Polls what the gateway derived from YARP's cluster state; bounded by the default timeout.
            await Task.Delay(20, timeout.Token);
        }
    }
}
