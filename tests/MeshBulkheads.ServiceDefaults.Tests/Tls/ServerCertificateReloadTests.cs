using Grpc.Net.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using static MeshBulkheads.Testing.TestCancellation;

namespace MeshBulkheads.ServiceDefaults.Tests.Tls;

/// <summary>
/// <c>Mesh:Tls</c> on a real Kestrel gRPC port: the certificate files are read again every <c>CheckInterval</c> (the
/// host's <see cref="TimeProvider"/>, a <see cref="FakeTimeProvider"/> here, whose callback reloads synchronously), the
/// next new connection presents the new certificate (read by the client's validation callback), and a changed pair that
/// cannot be used is logged while the last good certificate keeps serving.
/// </summary>
public sealed class ServerCertificateReloadTests : IDisposable
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly TestCertificateAuthority _ca = TestCertificateAuthority.Create("MeshBulkheads test CA");
    private readonly TestTlsSecret _secret = new();

    public void Dispose()
    {
        _secret.Dispose();
        _ca.Dispose();
    }

    [Fact]
    public async Task Reload_SecretDataSymlinkSwapped_NextConnectionPresentsTheNewCertificate()
    {
        // Arrange
        var first = _ca.Issue();
        var second = _ca.Issue();
        _secret.Project(first);
        await using var host = await StartAsync(_secret.Settings);
        var client = new TrustingClient(_ca.Certificate);
        var before = await PresentedOnNewConnectionAsync(host, client);

        // Act: kubelet's update (new directory, ..data renamed onto it); first a new connection before the check, then one after.
        _secret.Project(second);
        var beforeCheck = await PresentedOnNewConnectionAsync(host, client);
        _time.Advance(CheckInterval);
        var after = await PresentedOnNewConnectionAsync(host, client);

        // Assert
        Assert.Equal(first.Thumbprint, before);
        Assert.Equal(first.Thumbprint, beforeCheck);
        Assert.Equal(second.Thumbprint, after);
        Assert.Contains(Logs(host), r => r.Id.Name == "TlsCertificateReloaded" && r.Message.Contains(second.Thumbprint, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Reload_FilesRewrittenInPlace_NextConnectionPresentsTheNewCertificate()
    {
        // Arrange: plain files (no symlinks), rewritten where they are.
        var first = _ca.Issue();
        var second = _ca.Issue();
        var directory = Directory.CreateDirectory(Path.Combine(_secret.Root, "plain")).FullName;
        var certificateFile = Path.Combine(directory, "server.crt");
        var keyFile = Path.Combine(directory, "server.key");
        await File.WriteAllTextAsync(certificateFile, first.CertificatePem, Ct);
        await File.WriteAllTextAsync(keyFile, first.KeyPem, Ct);
        await using var host = await StartAsync(new Dictionary<string, string?> { ["Mesh:Tls:CertificateFile"] = certificateFile, ["Mesh:Tls:KeyFile"] = keyFile });
        var client = new TrustingClient(_ca.Certificate);
        var before = await PresentedOnNewConnectionAsync(host, client);

        // Act
        await File.WriteAllTextAsync(certificateFile, second.CertificatePem, Ct);
        await File.WriteAllTextAsync(keyFile, second.KeyPem, Ct);
        _time.Advance(CheckInterval);
        var after = await PresentedOnNewConnectionAsync(host, client);

        // Assert
        Assert.Equal(first.Thumbprint, before);
        Assert.Equal(second.Thumbprint, after);
    }

    [Theory]
    [InlineData("not-pem")]
    [InlineData("key-of-another-certificate")]
    [InlineData("empty")]
    public async Task Reload_InvalidPair_LoggedAndTheLastGoodCertificateKeepsServing(string kind)
    {
        // Arrange
        var good = _ca.Issue();
        _secret.Project(good);
        await using var host = await StartAsync(_secret.Settings);
        var client = new TrustingClient(_ca.Certificate);
        var other = _ca.Issue();
        var (certificatePem, keyPem) = kind switch
        {
            "not-pem" => ("this is not a certificate", "nor a key"),
            "key-of-another-certificate" => (other.CertificatePem, good.KeyPem),
            _ => (string.Empty, string.Empty),
        };

        // Act
        _secret.Project(certificatePem, keyPem);
        _time.Advance(CheckInterval);
        var afterInvalid = await PresentedOnNewConnectionAsync(host, client);
        // Unchanged bytes on the next check: no second line for the same content.
        _time.Advance(CheckInterval);

        // Assert
        Assert.Equal(good.Thumbprint, afterInvalid);
        var rejected = Assert.Single(Logs(host), r => r.Id.Name == "TlsCertificateRejected");
        Assert.Equal(LogLevel.Error, rejected.Level);
        Assert.Contains(good.Thumbprint, rejected.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Logs(host), r => r.Id.Name == "TlsCertificateReloaded");
    }

    [Fact]
    public async Task Start_KeyOfAnotherCertificate_FailsNamingTheFiles()
    {
        // Arrange
        _secret.Project(_ca.Issue().CertificatePem, _ca.Issue().KeyPem);

        // Act
        var failure = await Record.ExceptionAsync(() => StartAsync(_secret.Settings));

        // Assert
        Assert.NotNull(failure);
        Assert.Contains(_secret.CertificateFile, failure.ToString(), StringComparison.Ordinal);
    }

    private Task<KestrelHost> StartAsync(IDictionary<string, string?> settings) =>
        new FakePaymentsHost().StartAsync(b =>
        {
            b.Configuration.AddInMemoryCollection(settings);
            b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Mesh:Tls:CheckInterval"] = CheckInterval.ToString(),
                // KestrelHost logs Warning and above; the reload line is Information.
                ["Logging:LogLevel:MeshBulkheads.ServiceDefaults.Tls"] = "Information",
            });
            b.Services.Replace(ServiceDescriptor.Singleton<TimeProvider>(_time));
            b.Services.AddFakeLogging();
        });

    private static IReadOnlyList<FakeLogRecord> Logs(KestrelHost host) =>
        host.Services.GetFakeLogCollector().GetSnapshot();

    /// <summary>One call on a fresh handler (a new connection and handshake); the thumbprint the server presented.</summary>
    private static async Task<string> PresentedOnNewConnectionAsync(KestrelHost host, TrustingClient client)
    {
        var count = client.Presented.Count;
        using var channel = GrpcChannel.ForAddress(host.Endpoints.Grpc, new GrpcChannelOptions { HttpHandler = client.CreateHandler(), DisposeHttpClient = true });
        var response = await new PaymentsService.PaymentsServiceClient(channel)
            .GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, cancellationToken: Ct).ResponseAsync.DefaultTimeout();
        Assert.Equal(42, response.BalanceMinor);
        Assert.Equal(count + 1, client.Presented.Count);
        return client.Presented.Last();
    }
}
