using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MeshBulkheads.Testing;

/// <summary>A CA made in the test (ECDSA P-256, <see cref="CertificateRequest"/>), issuing server certificates as PEM.</summary>
public sealed class TestCertificateAuthority : IDisposable
{
    private TestCertificateAuthority(X509Certificate2 certificate) => Certificate = certificate;

    public X509Certificate2 Certificate { get; }

    public string CertificatePem => Certificate.ExportCertificatePem();

    public static TestCertificateAuthority Create(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return new TestCertificateAuthority(request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30)));
    }

    /// <summary>A server certificate for <c>localhost</c> and 127.0.0.1 (and <paramref name="dnsName"/>), as PEM, with its thumbprint.</summary>
    public IssuedCertificate Issue(string commonName = "localhost", string? dnsName = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        if (dnsName is not null)
        {
            names.AddDnsName(dnsName);
        }

        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var issued = request.Create(Certificate, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7), RandomNumberGenerator.GetBytes(8));
        return new IssuedCertificate(issued.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem(), issued.Thumbprint);
    }

    public void Dispose() => Certificate.Dispose();
}

/// <summary>A PEM certificate, its PEM key and its thumbprint.</summary>
public sealed record IssuedCertificate(string CertificatePem, string KeyPem, string Thumbprint);

/// <summary>
/// A TLS Secret as kubelet mounts it: <c>tls.crt</c> and <c>tls.key</c> are symlinks into <c>..data</c>, a symlink to a
/// timestamped directory; an update writes a new directory and renames a new <c>..data</c> over the old one.
/// </summary>
public sealed class TestTlsSecret : IDisposable
{
    private int _generation;

    public TestTlsSecret()
    {
        Root = Directory.CreateTempSubdirectory("mesh-tls-").FullName;
    }

    public string Root { get; }

    public string CertificateFile => Path.Combine(Root, "tls.crt");

    public string KeyFile => Path.Combine(Root, "tls.key");

    public string CaFile => Path.Combine(Root, "ca.crt");

    /// <summary>The <c>Mesh:Tls</c> settings pointing at this secret.</summary>
    public Dictionary<string, string?> Settings => new()
    {
        ["Mesh:Tls:CertificateFile"] = CertificateFile,
        ["Mesh:Tls:KeyFile"] = KeyFile,
    };

    /// <summary>Writes <paramref name="certificatePem"/> and <paramref name="keyPem"/> (and <paramref name="caPem"/> as <c>ca.crt</c>) as a new generation and swaps <c>..data</c> onto it.</summary>
    public void Project(string certificatePem, string keyPem, string? caPem = null)
    {
        var generation = $"..gen_{++_generation:D3}";
        var directory = Directory.CreateDirectory(Path.Combine(Root, generation)).FullName;
        File.WriteAllText(Path.Combine(directory, "tls.crt"), certificatePem);
        File.WriteAllText(Path.Combine(directory, "tls.key"), keyPem);
        if (caPem is not null)
        {
            File.WriteAllText(Path.Combine(directory, "ca.crt"), caPem);
        }

        var data = Path.Combine(Root, "..data");
        if (!Path.Exists(data))
        {
            File.CreateSymbolicLink(data, generation);
            File.CreateSymbolicLink(CertificateFile, Path.Combine("..data", "tls.crt"));
            File.CreateSymbolicLink(KeyFile, Path.Combine("..data", "tls.key"));
            File.CreateSymbolicLink(CaFile, Path.Combine("..data", "ca.crt"));
            return;
        }

        // kubelet's atomic writer: a new symlink renamed over ..data (rename(2), as mv -T does).
        var temporary = Path.Combine(Root, "..data_tmp");
        File.CreateSymbolicLink(temporary, generation);
        var start = new ProcessStartInfo("mv") { UseShellExecute = false };
        start.ArgumentList.Add("-T");
        start.ArgumentList.Add(temporary);
        start.ArgumentList.Add(data);
        using var mv = Process.Start(start)!;
        mv.WaitForExit();
        if (mv.ExitCode != 0)
        {
            throw new InvalidOperationException($"mv -T {temporary} {data} exited {mv.ExitCode}");
        }
    }

    public void Project(IssuedCertificate certificate, string? caPem = null) => Project(certificate.CertificatePem, certificate.KeyPem, caPem);

    public void Dispose() => TempDirectories.TryDelete(Root);
}

/// <summary>A client's HTTP/2 handler trusting only a test CA, recording the thumbprint every server presented.</summary>
public sealed class TrustingClient
{
    private readonly X509Certificate2 _ca;

    public TrustingClient(X509Certificate2 ca) => _ca = ca;

    /// <summary>The thumbprints of the certificates servers presented, in handshake order (trusted or not).</summary>
    public ConcurrentQueue<string> Presented { get; } = new();

    /// <summary>A new handler (so a new connection) trusting the CA only; the name must match as well.</summary>
    public SocketsHttpHandler CreateHandler() => new()
    {
        EnableMultipleHttp2Connections = true,
        SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = Validate },
    };

    /// <summary>The test's own check (independent of the production trust code): no name error, chain ending at the CA.</summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            return false;
        }

        using var presented = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        Presented.Enqueue(presented.Thumbprint);
        if ((errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        custom.ChainPolicy.CustomTrustStore.Add(_ca);
        return custom.Build(presented);
    }
}
