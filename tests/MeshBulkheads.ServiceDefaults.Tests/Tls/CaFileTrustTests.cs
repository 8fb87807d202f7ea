using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using MeshBulkheads.Contracts.Tls;
using Microsoft.Extensions.Time.Testing;

namespace MeshBulkheads.ServiceDefaults.Tests.Tls;

/// <summary>
/// A CA file rotated while the process runs (<see cref="CaFileTrust"/>, used by the gateway for its backends and by
/// reporting for payments): compared again at most every check interval (a <see cref="FakeTimeProvider"/> here), a new
/// CA trusted from the next handshake after it, an unusable file reported once while the last good CA stays trusted.
/// </summary>
public sealed class CaFileTrustTests : IDisposable
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly TestCertificateAuthority _old = TestCertificateAuthority.Create("MeshBulkheads old CA");
    private readonly TestCertificateAuthority _new = TestCertificateAuthority.Create("MeshBulkheads new CA");
    private readonly TestTlsSecret _secret = new();
    private readonly List<string> _rejected = [];

    public void Dispose()
    {
        _secret.Dispose();
        _new.Dispose();
        _old.Dispose();
    }

    [Fact]
    public void Validate_CaFileSwappedToANewCa_NewServersTrustedFromTheFirstHandshakeAfterTheInterval()
    {
        // Arrange: the Secret's ca.crt is the old CA; then kubelet swaps ..data onto a generation with the new one.
        _secret.Project(_old.Issue(), _old.CertificatePem);
        var trust = new CaFileTrust(_secret.CaFile, _time, CheckInterval, _rejected.Add);
        var oldServer = Server(_old);
        var newServer = Server(_new);
        var before = (Old: Validate(trust, oldServer), New: Validate(trust, newServer));
        _secret.Project(_new.Issue(), _new.CertificatePem);

        // Act
        _time.Advance(CheckInterval - TimeSpan.FromSeconds(1));
        var withinInterval = (Old: Validate(trust, oldServer), New: Validate(trust, newServer));
        _time.Advance(TimeSpan.FromSeconds(1));
        var afterInterval = (Old: Validate(trust, oldServer), New: Validate(trust, newServer));

        // Assert
        Assert.Equal((true, false), before);
        Assert.Equal((true, false), withinInterval);
        Assert.Equal((false, true), afterInterval);
        Assert.Equal(1, trust.Reloads);
        Assert.Empty(_rejected);
    }

    [Fact]
    public void Validate_CaFileHoldingBothCasDuringARotation_BothServersTrusted()
    {
        // Arrange
        _secret.Project(_old.Issue(), _old.CertificatePem);
        var trust = new CaFileTrust(_secret.CaFile, _time, CheckInterval, _rejected.Add);
        _secret.Project(_new.Issue(), _old.CertificatePem + "\n" + _new.CertificatePem + "\n");

        // Act
        _time.Advance(CheckInterval);
        var trusted = (Old: Validate(trust, Server(_old)), New: Validate(trust, Server(_new)));

        // Assert
        Assert.Equal((true, true), trusted);
        Assert.Equal(2, trust.Roots.Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a certificate")]
    [InlineData("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")]
    public void Validate_CaFileChangedToSomethingUnusable_ReportedOnceAndTheLastGoodCaStaysTrusted(string content)
    {
        // Arrange
        _secret.Project(_old.Issue(), _old.CertificatePem);
        var trust = new CaFileTrust(_secret.CaFile, _time, CheckInterval, _rejected.Add);
        _secret.Project(_old.Issue(), content.Length == 0 ? " " : content);

        // Act: three intervals, several handshakes each.
        var results = new List<bool>();
        for (var i = 0; i < 3; i++)
        {
            _time.Advance(CheckInterval);
            results.Add(Validate(trust, Server(_old)));
            results.Add(Validate(trust, Server(_old)));
        }

        // Assert
        Assert.All(results, Assert.True);
        var message = Assert.Single(_rejected);
        Assert.Contains(_secret.CaFile, message, StringComparison.Ordinal);
        Assert.Contains("still trusted", message, StringComparison.Ordinal);
        Assert.Equal(0, trust.Reloads);
    }

    [Fact]
    public void Validate_CaFileRemovedThenRestored_ReportedOnceThenTheRestoredCaApplies()
    {
        // Arrange
        _secret.Project(_old.Issue(), _old.CertificatePem);
        var trust = new CaFileTrust(_secret.CaFile, _time, CheckInterval, _rejected.Add);
        var target = File.ResolveLinkTarget(_secret.CaFile, returnFinalTarget: true)!.FullName;
        File.Move(target, target + ".gone");

        // Act
        _time.Advance(CheckInterval);
        var whileMissing = Validate(trust, Server(_old));
        _time.Advance(CheckInterval);
        var stillMissing = Validate(trust, Server(_old));
        _secret.Project(_new.Issue(), _new.CertificatePem);
        _time.Advance(CheckInterval);
        var restored = Validate(trust, Server(_new));

        // Assert
        Assert.True(whileMissing && stillMissing, "the last good CA stopped being trusted while the file was missing");
        Assert.True(restored, "the restored file's CA was not trusted");
        Assert.Single(_rejected);
        Assert.Contains("could not be read", _rejected[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_FileWithoutACertificate_FailsNamingTheFile()
    {
        // Arrange
        _secret.Project(_old.Issue(), "no certificate here");

        // Act
        var failure = Assert.Throws<InvalidOperationException>(() => new CaFileTrust(_secret.CaFile, _time, CheckInterval));

        // Assert
        Assert.Contains(_secret.CaFile, failure.Message, StringComparison.Ordinal);
    }

    private static X509Certificate2 Server(TestCertificateAuthority ca) => X509Certificate2.CreateFromPem(ca.Issue().CertificatePem);

    // As the platform reports a certificate from a private CA: a chain error, which the mesh's trust rule decides.
    private static bool Validate(CaFileTrust trust, X509Certificate2 server) =>
        trust.ValidationCallback(new object(), server, chain: null, SslPolicyErrors.RemoteCertificateChainErrors);
}
