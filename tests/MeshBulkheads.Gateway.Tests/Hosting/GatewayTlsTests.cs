using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Grpc.Net.Client;

namespace MeshBulkheads.Gateway.Tests.Hosting;

/// <summary>
/// The gateway's public gRPC port with <c>Mesh:Tls</c> (a TLS Secret's <c>tls.crt</c>/<c>tls.key</c> made from a test CA):
/// a client trusting that CA is served over HTTP/2 negotiated by ALPN; a client trusting another CA, or speaking h2c to
/// the port, fails before anything is forwarded.
/// </summary>
public sealed class GatewayTlsTests : IAsyncLifetime
{
    private readonly TestCertificateAuthority _ca = TestCertificateAuthority.Create("MeshBulkheads test gateway CA");
    private readonly TestCertificateAuthority _otherCa = TestCertificateAuthority.Create("Someone else's CA");
    private readonly TestTlsSecret _secret = new();
    private IssuedCertificate _certificate = null!;
    private FakeBackend _payments = null!;
    private KestrelHost _gateway = null!;

    public async ValueTask InitializeAsync()
    {
        _certificate = _ca.Issue();
        _secret.Project(_certificate);
        _payments = await FakeBackend.StartAsync<FakePaymentsService>();
        _gateway = await GatewayHost.StartPaymentsOnlyAsync(_payments.Address, _secret.Settings);
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _payments.DisposeAsync();
        _secret.Dispose();
        _otherCa.Dispose();
        _ca.Dispose();
    }

    [Fact]
    public async Task GetBalance_ClientTrustsTheCa_ServedOverTlsWithTheConfiguredCertificate()
    {
        // Arrange
        var client = new TrustingClient(_ca.Certificate);

        // Act
        var response = await GetBalanceAsync(client.CreateHandler(), _gateway.Endpoints.Grpc);

        // Assert
        Assert.Equal("https", _gateway.Endpoints.Grpc.Scheme);
        Assert.Equal("acct-0001", response.AccountId);
        Assert.Equal([_certificate.Thumbprint], client.Presented);
        Assert.Single(_payments.Calls);
    }

    [Fact]
    public async Task GetBalance_ClientTrustsAnotherCa_HandshakeRefusedAndNothingForwarded()
    {
        // Arrange
        var client = new TrustingClient(_otherCa.Certificate);

        // Act
        var failure = await Assert.ThrowsAsync<RpcException>(() => GetBalanceAsync(client.CreateHandler(), _gateway.Endpoints.Grpc));

        // Assert: the client's own check refused the gateway's certificate (grpc-dotnet reports a failed handshake as
        // INTERNAL: its HttpRequestException has no IOException inside, which it would map to UNAVAILABLE).
        Assert.Equal(StatusCode.Internal, failure.StatusCode);
        var http = Assert.IsType<HttpRequestException>(failure.Status.DebugException);
        Assert.Equal(HttpRequestError.SecureConnectionError, http.HttpRequestError);
        Assert.Equal([_certificate.Thumbprint], client.Presented);
        Assert.Empty(_payments.Calls);
    }

    [Fact]
    public async Task GetBalance_CleartextClientOnTheTlsPort_FailsAndNothingForwarded()
    {
        // Arrange: h2c (prior knowledge) to the TLS port.
        var cleartext = new UriBuilder(_gateway.Endpoints.Grpc) { Scheme = Uri.UriSchemeHttp }.Uri;

        // Act
        var failure = await Assert.ThrowsAsync<RpcException>(() => GetBalanceAsync(new SocketsHttpHandler(), cleartext));

        // Assert
        Assert.NotEqual(StatusCode.OK, failure.StatusCode);
        Assert.Empty(_payments.Calls);
    }

    [Theory]
    [InlineData(new[] { "h2", "http/1.1" }, "h2")]
    [InlineData(new[] { "h2" }, "h2")]
    public async Task Handshake_ClientOffersProtocols_AlpnNegotiatesHttp2(string[] offered, string expected)
    {
        // Arrange
        var client = new TrustingClient(_ca.Certificate);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _gateway.Endpoints.Grpc.Port, Ct);
        await using var tls = new SslStream(tcp.GetStream(), false, client.Validate);

        // Act
        await tls.AuthenticateAsClientAsync(
            new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ApplicationProtocols = [.. offered.Select(p => new SslApplicationProtocol(p))],
            },
            Ct).DefaultTimeout();

        // Assert
        Assert.Equal(expected, tls.NegotiatedApplicationProtocol.ToString());
        Assert.Equal(_certificate.Thumbprint, Assert.Single(client.Presented));
    }

    private static async Task<GetBalanceResponse> GetBalanceAsync(HttpMessageHandler handler, Uri address)
    {
        using var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
        return await new PaymentsService.PaymentsServiceClient(channel)
            .GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, DemoTenants.AcmeHeaders, cancellationToken: Ct)
            .ResponseAsync.DefaultTimeout();
    }
}
