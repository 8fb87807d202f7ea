using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MeshBulkheads.Gateway.RateLimiting;
using MeshBulkheads.Gateway.RateLimiting.Internal;
using MeshBulkheads.Gateway.RateLimiting.Redis;
using StackExchange.Redis.Configuration;

namespace MeshBulkheads.Gateway.Tests.RateLimiting;

/// <summary>
/// <c>Gateway:RateLimiting:Redis:Tls</c>, <c>TlsCaFile</c>, <c>TlsHost</c> as StackExchange.Redis settings. No Redis with TLS
/// runs here, so the tests check what the gateway hands the library: TLS on, the host, the protocols, and the library's
/// own certificate check (read back through <see cref="TlsOptions"/>) accepting a certificate from the configured CA and
/// refusing one from another CA. <see cref="RedisTlsTests"/> runs the same settings against a TLS-only redis-server.
/// </summary>
public sealed class RedisTlsConfigurationTests : IDisposable
{
    private const string Host = "redis.meshbulkheads.test";

    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-redis-tls-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void CreateConfiguration_TlsWithCaFileAndHost_TlsOnAndOnlyTheCasCertificatesAccepted()
    {
        // Arrange
        using var ca = CreateCa("MeshBulkheads test Redis CA");
        using var otherCa = CreateCa("Someone else's CA");
        using var server = CreateServerCertificate(ca, Host);
        using var impostor = CreateServerCertificate(otherCa, Host);
        var caFile = Path.Combine(_directory, "ca.crt");
        File.WriteAllText(caFile, ca.ExportCertificatePem());
        var options = new RedisRateLimitOptions { Configuration = "10.0.0.5:6379,password=secret", Tls = true, TlsCaFile = caFile, TlsHost = Host };

        // Act
        var configuration = RedisTenantRateLimiter.CreateConfiguration(options);
        // TlsOptions is the library's experimental read-only view of the TLS settings: the only public way to read the callback back.
#pragma warning disable SER009
        var validate = new TlsOptions(configuration).CertificateValidationCallback;
#pragma warning restore SER009

        // Assert
        Assert.True(configuration.Ssl);
        Assert.Equal(Host, configuration.SslHost);
        Assert.Equal(SslProtocols.Tls12 | SslProtocols.Tls13, configuration.SslProtocols);
        Assert.NotNull(validate);
        // What the platform reports for a CA it does not know: a chain error; the configured issuer decides.
        Assert.True(validate(this, server, null, SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(validate(this, impostor, null, SslPolicyErrors.RemoteCertificateChainErrors));
    }

    [Theory]
    [InlineData("redis:6379", false)]
    [InlineData("redis:6379,ssl=true", true)]
    public void CreateConfiguration_TlsOff_ConnectionStringDecidesAndNoIssuerCheck(string connection, bool ssl)
    {
        // Act
        var configuration = RedisTenantRateLimiter.CreateConfiguration(new RedisRateLimitOptions { Configuration = connection });

        // Assert
        Assert.Equal(ssl, configuration.Ssl);
        Assert.Null(configuration.SslHost);
    }

    [Theory]
    [InlineData(false, "ca.crt", "Gateway:RateLimiting:Redis:TlsCaFile and TlsHost apply only to TLS: set Gateway:RateLimiting:Redis:Tls to true")]
    [InlineData(true, "missing.crt", "Gateway:RateLimiting:Redis:TlsCaFile '")]
    public void Validate_TlsSettingsWithoutTlsOrAMissingCaFile_FailsNamingTheSetting(bool tls, string caFile, string expected)
    {
        // Arrange
        File.WriteAllText(Path.Combine(_directory, "ca.crt"), "not read by validation");
        var options = new RateLimitingOptions
        {
            Store = RateLimitStore.Redis,
            Redis = new RedisRateLimitOptions { Configuration = "redis:6379", Tls = tls, TlsCaFile = Path.Combine(_directory, caFile) },
        };

        // Act
        var result = new RateLimitingOptionsValidator().Validate(null, options);

        // Assert
        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
    }

    internal static X509Certificate2 CreateCa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    internal static X509Certificate2 CreateServerCertificate(X509Certificate2 issuer, string host, ECDsa? serverKey = null)
    {
        using var ownKey = serverKey is null ? ECDsa.Create(ECCurve.NamedCurves.nistP256) : null;
        var key = serverKey ?? ownKey!;
        var request = new CertificateRequest($"CN={host}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(host);
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var serial = RandomNumberGenerator.GetBytes(8);
        return request.Create(issuer, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7), serial);
    }
}
