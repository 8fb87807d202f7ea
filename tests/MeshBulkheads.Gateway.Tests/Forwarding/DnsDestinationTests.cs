using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Gateway.Forwarding.Internal;
using MeshBulkheads.Gateway.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace MeshBulkheads.Gateway.Tests.Forwarding;

/// <summary>
/// <c>Gateway:Destinations:Dns</c>: configured host names become one destination per resolved address,
/// and the route's bulkhead counts the resolved destinations. A name that does not resolve yet (a headless Service
/// before its first ready pod) leaves its cluster without destinations instead of stopping the gateway.
/// </summary>
public class DnsDestinationTests
{
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
        var bulkhead = gateway.Services.GetRequiredService<IBulkheadProvider>().Get("gateway-payments");

        // Act
        await WaitForPermitsAsync(bulkhead, 3 * 2 * addressesPerName);
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());
        for (var i = 0; i < 4; i++)
        {
            await client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, DemoTenants.AcmeHeaders, cancellationToken: Ct)
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

    [Fact]
    public async Task Start_DestinationNameDoesNotResolve_StartsReadyAndCallsUnavailableWithNoHealthyBackend()
    {
        // Arrange: the real system resolver; .invalid never resolves (RFC 6761). No refresh during the test
        // (real clock), so exactly the start-up failure is logged however slow the machine.
        var closed = GatewayHost.ClosedPort();
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Destinations:Dns:Enabled"] = "true",
            ["Gateway:Destinations:Dns:RefreshPeriod"] = "01:00:00",
            [GatewayHost.Destination("payments")] = "http://no-such-host.invalid:8081",
        };

        // Act: YARP's own resolver threw here and the host stopped ("Failed to resolve host").
        await using var gateway = await KestrelHost.StartAsync(GatewayApp.Build, GatewayHost.Settings(closed, closed, closed, settings), b => b.Logging.AddFakeLogging());
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());
        var error = await Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(
            new GetBalanceRequest { AccountId = "acct-0001" }, DemoTenants.AcmeHeaders, cancellationToken: Ct).ResponseAsync.DefaultTimeout());
        using var admin = gateway.CreateAdminClient();
        using var ready = await admin.GetAsync(new Uri("/readyz", UriKind.Relative), Ct).DefaultTimeout();

        // Assert: no destination, a gRPC status with a reason (not a bare HTTP 503), logged, and the gateway itself ready.
        Assert.Empty(Destinations(gateway));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(MeshRejectReasons.NoHealthyBackend, error.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Contains("no destinations", error.Status.Detail, StringComparison.Ordinal);
        var line = Assert.Single(gateway.Services.GetFakeLogCollector().GetSnapshot(), r => r.Id.Name == "NameUnresolved");
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Contains("no-such-host.invalid", line.Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task Refresh_NameStartsResolving_DestinationAppearsAndCallsSucceed()
    {
        // Arrange: a name that does not resolve until the test says so; the refresh is timed by the fake clock.
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        var dns = new SwitchableDns("payments.test");
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await StartWithDnsAsync(payments, dns, time);
        using var failures = new MetricCollector<long>(gateway.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), GatewayMetrics.MeterName, "meshbulkheads.gateway.dns.resolution_failures");
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());
        var headers = DemoTenants.AcmeHeaders;
        var before = await Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(
            new GetBalanceRequest { AccountId = "acct-0001" }, headers, cancellationToken: Ct).ResponseAsync.DefaultTimeout());
        time.Advance(TimeSpan.FromSeconds(5));
        await WaitForDestinationsAsync(gateway, dns.Lookups, 2, 0);

        // Act: the name gets its record (the pod became ready); the next refresh sees it.
        dns.Address = IPAddress.Loopback;
        time.Advance(TimeSpan.FromSeconds(5));
        await WaitForDestinationsAsync(gateway, dns.Lookups, 3, 1);
        await client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, headers, cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert: retried at each refresh, each failure counted, then the resolved address serves.
        Assert.Equal(StatusCode.Unavailable, before.StatusCode);
        Assert.Equal(MeshRejectReasons.NoHealthyBackend, before.Trailers.GetValue(MeshMetadata.RejectReason));
        var destination = Assert.Single(Destinations(gateway));
        Assert.Equal("d1[127.0.0.1]", destination.DestinationId);
        Assert.Equal($"payments.test:{payments.Address.Port}", destination.Model.Config.Host);
        Assert.Single(payments.Calls);
        Assert.NotEmpty(failures.GetMeasurementSnapshot());
        Assert.All(failures.GetMeasurementSnapshot(), m =>
        {
            Assert.Equal("payments.test", m.Tags["server.address"]);
            Assert.Equal(nameof(SocketError.HostNotFound), m.Tags["error.type"]);
        });
        Assert.True(dns.Lookups.Value >= 3, $"{dns.Lookups.Value} lookups");
    }

    [Fact]
    public async Task Refresh_TransientDnsFailure_KeepsLastAddressesUntilTheNameIsGone()
    {
        // Arrange
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        var dns = new SwitchableDns("payments.test") { Address = IPAddress.Loopback };
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await StartWithDnsAsync(payments, dns, time);

        // Act: the DNS server times out (TryAgain), then answers that the name has no record (last pod gone).
        dns.Failure = SocketError.TryAgain;
        time.Advance(TimeSpan.FromSeconds(5));
        await WaitForDestinationsAsync(gateway, dns.Lookups, 2, 1);
        var afterTransient = Destinations(gateway).Count;
        dns.Failure = SocketError.HostNotFound;
        time.Advance(TimeSpan.FromSeconds(5));
        await WaitForDestinationsAsync(gateway, dns.Lookups, 3, 0);

        // Assert
        Assert.Equal(1, afterTransient);
        Assert.Empty(Destinations(gateway));
    }

    /// <summary>A gateway whose payments destination is <c>payments.test</c>, resolved through <paramref name="dns"/> every 5 s of <paramref name="time"/>.</summary>
    private static Task<KestrelHost> StartWithDnsAsync(FakeBackend payments, SwitchableDns dns, FakeTimeProvider time)
    {
        var closed = GatewayHost.ClosedPort();
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Destinations:Dns:Enabled"] = "true",
            ["Gateway:Destinations:Dns:RefreshPeriod"] = "00:00:05",
            [GatewayHost.Destination("payments")] = $"http://payments.test:{payments.Address.Port}",
        };
        return KestrelHost.StartAsync(GatewayApp.Build, GatewayHost.Settings(closed, closed, closed, settings), b =>
        {
            b.Services.Replace(ServiceDescriptor.Singleton<TimeProvider>(time));
            b.Services.Replace(ServiceDescriptor.Singleton<IDnsLookup>(dns));
        });
    }

    /// <summary>Waits until <paramref name="lookups"/> reached <paramref name="minLookups"/> and the cluster has <paramref name="count"/> destinations.</summary>
    private static async Task WaitForDestinationsAsync(KestrelHost gateway, StrongBox<int> lookups, int minLookups, int count)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TaskTimeoutExtensions.DefaultTimeoutSpan);
        while (Volatile.Read(ref lookups.Value) < minLookups || Destinations(gateway).Count != count)
        {
            // YARP re-resolves on its own task once the change token fires; bounded by the default timeout.
            await Task.Delay(20, timeout.Token);
        }
    }

    /// <summary>One host name that fails with <see cref="Failure"/> until <see cref="Address"/> is set (and <see cref="Failure"/> cleared).</summary>
    private sealed class SwitchableDns(string host) : IDnsLookup
    {
        public StrongBox<int> Lookups { get; } = new();

        public IPAddress? Address { get; set; }

        public SocketError? Failure { get; set; }

        public Task<IPAddress[]> GetHostAddressesAsync(string name, AddressFamily? family, CancellationToken cancellationToken)
        {
            Assert.Equal(host, name);
            Interlocked.Increment(ref Lookups.Value);
            return Failure is { } failure
                ? Task.FromException<IPAddress[]>(new SocketException((int)failure))
                : Address is { } address
                    ? Task.FromResult<IPAddress[]>([address])
                    : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound));
        }
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
