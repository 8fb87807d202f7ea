using Grpc.Core;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using MeshBulkheads.Contracts.Payments.V1;
using MeshBulkheads.Contracts.Tls;
using MeshBulkheads.ServiceDefaults.Tls;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MeshBulkheads.Reporting.Payments;

/// <summary>
/// Reporting's channel to payments: a fixed <c>http://</c> address, or <c>dns:///host:port</c> balanced
/// round-robin over every address the name resolves to (in Kubernetes the headless Service, one address
/// per ready pod), re-resolved every <see cref="ReportingOptions.PaymentsDnsRefreshInterval"/>.
/// </summary>
/// <remarks>
/// HTTP/2 multiplexes every call on one long-lived connection, so without client-side balancing a
/// payments pod added by the autoscaler gets none of reporting's traffic. grpc-dotnet balances only
/// when the bottom of the handler chain is a <see cref="SocketsHttpHandler"/> (it opens one connection
/// per resolved address through it); the primary handler is set to one explicitly. Its
/// <see cref="DnsResolverFactory"/> re-resolves by default only after a connection fails, which never
/// happens while the old pods stay healthy, hence the registered factory with a refresh interval.
/// A <c>dns:</c> address has no scheme implying h2c, so the credentials are set to insecure, or to TLS with
/// <see cref="ReportingOptions.PaymentsCaFile"/>, which also makes payments' certificate checked against that CA only.
/// A test may replace the registered <see cref="ResolverFactory"/> (scheme <c>dns</c>) with its own.
/// The one delegating handler between the channel and the <see cref="SocketsHttpHandler"/> is the circuit breaker
/// (<see cref="PaymentsCircuitBreaker"/>); balancing still works through it.
/// </remarks>
public static class PaymentsChannel
{
    /// <summary>The scheme of a DNS-balanced address.</summary>
    public const string DnsScheme = "dns";

    /// <summary>True for an absolute <c>http(s)://</c> URI or <c>dns:///host:port</c>.</summary>
    public static bool IsValidAddress(string? address)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri))
        {
            return false;
        }

        if (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        {
            return true;
        }

        // dns:///name:port: no authority (no DNS server override), a host and an explicit port in the path.
        return uri.Scheme == DnsScheme
            && uri.Authority.Length == 0
            && uri.AbsolutePath.TrimStart('/') is { Length: > 0 } target
            && target.LastIndexOf(':') is var colon and > 0
            && int.TryParse(target.AsSpan(colon + 1), out var port) && port is > 0 and <= 65_535;
    }

    /// <summary>True when <paramref name="address"/> is balanced over DNS.</summary>
    public static bool IsDns(string address) =>
        address.StartsWith(DnsScheme + ":", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The service config: the retry policy and budget (<see cref="PaymentsClientConfig"/>) and, for a
    /// <c>dns:</c> address, <c>round_robin</c> (grpc-dotnet's default, pick_first, would use one address).
    /// </summary>
    public static ServiceConfig CreateServiceConfig(string address)
    {
        var config = PaymentsClientConfig.CreateServiceConfig();
        if (IsDns(address))
        {
            config.LoadBalancingConfigs.Add(new RoundRobinConfig());
        }

        return config;
    }

    internal static void AddPaymentsClient(IServiceCollection services)
    {
        // Resolved by the channel from the application's services (the client factory passes them on).
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ResolverFactory, RefreshingDnsResolverFactory>());
        services
            .AddGrpcClient<PaymentsService.PaymentsServiceClient>((sp, o) =>
                o.Address = new Uri(sp.GetRequiredService<IOptions<ReportingOptions>>().Value.PaymentsAddress))
            .ConfigureChannel((sp, o) =>
            {
                var reporting = sp.GetRequiredService<IOptions<ReportingOptions>>().Value;
                o.ServiceConfig = CreateServiceConfig(reporting.PaymentsAddress);
                if (IsDns(reporting.PaymentsAddress))
                {
                    o.Credentials = string.IsNullOrEmpty(reporting.PaymentsCaFile) ? ChannelCredentials.Insecure : ChannelCredentials.SecureSsl;
                }
            })
            .ConfigurePrimaryHttpMessageHandler(sp =>
            {
                var handler = new SocketsHttpHandler
                {
                    // More than 100 concurrent streams to one pod open a second connection instead of queueing.
                    EnableMultipleHttp2Connections = true,
                };
                if (sp.GetRequiredService<IOptions<ReportingOptions>>().Value.PaymentsCaFile is { Length: > 0 } caFile)
                {
                    // Compared again every Mesh:Tls:CheckInterval when a new connection's handshake asks: a rotated ca.crt
                    // applies without a restart; an unusable one is logged and the last good CA stays trusted.
                    var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(PaymentsChannel).FullName!);
                    var trust = new CaFileTrust(caFile, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<MeshTlsOptions>>().Value.CheckInterval,
                        message => ReportingLog.PaymentsCaFileRejected(logger, message));
                    handler.SslOptions.RemoteCertificateValidationCallback = trust.ValidationCallback;
                }

                return handler;
            })
            // A DelegatingHandler above the SocketsHttpHandler, which stays the bottom of the chain (balancing needs it).
            .AddPaymentsBreaker();
    }

    /// <summary>grpc-dotnet's DNS resolver with the configured refresh interval (registered in DI for the <c>dns</c> scheme).</summary>
    private sealed class RefreshingDnsResolverFactory(IOptions<ReportingOptions> options) : ResolverFactory
    {
        private readonly DnsResolverFactory _inner = new(options.Value.PaymentsDnsRefreshInterval);

        public override string Name => _inner.Name;

        public override Resolver Create(ResolverOptions options) => _inner.Create(options);
    }
}
