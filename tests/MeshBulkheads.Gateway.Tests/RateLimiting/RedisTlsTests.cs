using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MeshBulkheads.Testing.Processes;

namespace MeshBulkheads.Gateway.Tests.RateLimiting;

/// <summary>
/// <c>Gateway:RateLimiting:Redis:Tls</c> against a private <c>redis-server</c> listening with TLS only (apt's build links
/// OpenSSL), its certificate issued by a CA made in the test: two gateways that trust that CA share one bucket through it;
/// two that trust another CA refuse the server and fall back to their own buckets. Skipped (failed under CI) when
/// redis-server is missing.
/// </summary>
public sealed class RedisTlsTests : IAsyncLifetime
{
    private const string Host = "redis.meshbulkheads.test";

    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-redis-tls-").FullName;
    private ServerProcess? _server;
    private X509Certificate2? _ca;
    private string? _unavailable;
    private int _port;

    private string CaFile => Path.Combine(_directory, "ca.crt");

    private string OtherCaFile => Path.Combine(_directory, "other-ca.crt");

    public async ValueTask InitializeAsync()
    {
        var redisServer = ServerRequirement.FindExecutable("redis-server", "/usr/bin", "/usr/local/bin");
        if (redisServer is null)
        {
            _unavailable = "redis-server is not installed (apt-get install redis-server).";
            return;
        }

        _ca = RedisTlsConfigurationTests.CreateCa("MeshBulkheads test Redis CA");
        var ca = _ca;
        using var otherCa = RedisTlsConfigurationTests.CreateCa("Someone else's CA");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var server = RedisTlsConfigurationTests.CreateServerCertificate(ca, Host, key);
        await File.WriteAllTextAsync(CaFile, ca.ExportCertificatePem(), Ct);
        await File.WriteAllTextAsync(OtherCaFile, otherCa.ExportCertificatePem(), Ct);
        await File.WriteAllTextAsync(Path.Combine(_directory, "redis.crt"), server.ExportCertificatePem(), Ct);
        await File.WriteAllTextAsync(Path.Combine(_directory, "redis.key"), key.ExportPkcs8PrivateKeyPem(), Ct);

        _port = ServerProcess.FreeLoopbackPort();
        var start = new ProcessStartInfo(redisServer)
        {
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--port", "0", "--tls-port", _port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--tls-cert-file", "redis.crt", "--tls-key-file", "redis.key", "--tls-ca-cert-file", "ca.crt", "--tls-auth-clients", "no",
            "--save", string.Empty, "--appendonly", "no", "--dir", _directory, "--protected-mode", "no", "--daemonize", "no", "--loglevel", "warning",
        })
        {
            start.ArgumentList.Add(argument);
        }

        _server = new ServerProcess(start, outputLines: 50);
        _server.Start();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            if (!await _server.WaitUntilReadyAsync(AnswersPingOverTlsAsync, TimeSpan.FromMilliseconds(50), timeout.Token))
            {
                _unavailable = "redis-server with TLS did not start: " + _server.RecentOutput;
            }
        }
        catch (OperationCanceledException)
        {
            _unavailable = "redis-server with TLS did not answer within 15 s: " + _server.RecentOutput;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.StopAsync(TimeSpan.FromSeconds(10));
            _server.Dispose();
        }

        _ca?.Dispose();
        TempDirectories.TryDelete(_directory);
    }

    [Theory]
    [InlineData(true, 5)]
    [InlineData(false, 10)]
    public async Task GetBalance_TwoGatewaysOverTlsRedis_ShareOneBurstOnlyWhenTheyTrustItsCa(bool trustTheCa, int expectedSuccesses)
    {
        // Arrange: bronze burst 5, refill one token per 100 s; both gateways on the same TLS-only Redis.
        if (_unavailable is not null)
        {
            ServerRequirement.Unavailable(_unavailable);
        }

        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        var closed = GatewayHost.ClosedPort();
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Tiers:bronze:TokensPerSecond"] = "0.01",
            ["Gateway:Tiers:bronze:Burst"] = "5",
            ["Gateway:RouteCosts:payments"] = "1",
            ["Gateway:RouteCosts:reporting"] = "1",
            ["Gateway:RouteCosts:render"] = "1",
            ["Gateway:RateLimiting:Store"] = "Redis",
            ["Gateway:RateLimiting:Redis:Configuration"] = string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{_port}"),
            ["Gateway:RateLimiting:Redis:KeyPrefix"] = $"test:{Guid.NewGuid():N}:",
            // Long enough for the TLS handshake on a busy machine (the start waits for the first connect this long).
            ["Gateway:RateLimiting:Redis:Timeout"] = trustTheCa ? "00:00:05" : "00:00:01",
            ["Gateway:RateLimiting:Redis:Tls"] = "true",
            ["Gateway:RateLimiting:Redis:TlsCaFile"] = trustTheCa ? CaFile : OtherCaFile,
            ["Gateway:RateLimiting:Redis:TlsHost"] = Host,
        };
        await using var first = await GatewayHost.StartAsync(payments.Address, closed, closed, settings);
        await using var second = await GatewayHost.StartAsync(payments.Address, closed, closed, settings);

        // Act
        var outcomes = new List<Exception?>();
        for (var i = 0; i < 10; i++)
        {
            outcomes.Add(await Record.ExceptionAsync(() => GetBalanceAsync(first)));
            outcomes.Add(await Record.ExceptionAsync(() => GetBalanceAsync(second)));
        }

        // Assert: trusted → one global burst through Redis; refused certificate → one in-process burst per gateway.
        Assert.Equal(expectedSuccesses, outcomes.Count(e => e is null));
        Assert.All(outcomes.OfType<RpcException>(), e => Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode));
    }

    private static Task<GetBalanceResponse> GetBalanceAsync(KestrelHost gateway) =>
        new PaymentsService.PaymentsServiceClient(gateway.CreateChannel())
            .GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, DemoTenants.Headers(DemoTenants.InitechKey), cancellationToken: Ct)
            .ResponseAsync.DefaultTimeout();

    /// <summary>The readiness probe's own check: the chain ends at the test CA (the machine does not know it).</summary>
    private bool IssuedByTheTestCa(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        custom.ChainPolicy.CustomTrustStore.Add(_ca!);
        return custom.Build(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }

    private async Task<bool> AnswersPingOverTlsAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, _port, cancellationToken);
            await using var tls = new SslStream(client.GetStream(), false, IssuedByTheTestCa);
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = Host }, cancellationToken);
            await tls.WriteAsync("PING\r\n"u8.ToArray(), cancellationToken);
            var buffer = new byte[16];
            var read = await tls.ReadAsync(buffer, cancellationToken);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is SocketException or IOException or System.Security.Authentication.AuthenticationException)
        {
            return false;
        }
    }
}
