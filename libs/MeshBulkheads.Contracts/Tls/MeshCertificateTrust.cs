using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace MeshBulkheads.Contracts.Tls;

/// <summary>
/// A client's check of a mesh server's certificate against a CA file (a Secret's <c>ca.crt</c>) instead of the
/// machine's trust store: the chain must end at one of the file's certificates (custom root trust) and the name must
/// match. Never "accept any": a name mismatch or a missing certificate fails whatever the CA says.
/// </summary>
public static class MeshCertificateTrust
{
    /// <summary>Reads every PEM certificate of <paramref name="caFile"/>; fails naming the file when it holds none.</summary>
    public static X509Certificate2Collection LoadCaFile(string caFile)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(caFile);
        return CaFileTrust.Parse(caFile, File.ReadAllBytes(caFile));
    }

    /// <summary>A validation callback that trusts exactly <paramref name="roots"/> (for <see cref="SslClientAuthenticationOptions.RemoteCertificateValidationCallback"/>).</summary>
    public static RemoteCertificateValidationCallback CreateValidationCallback(X509Certificate2Collection roots)
    {
        ArgumentNullException.ThrowIfNull(roots);
        return (_, certificate, chain, errors) => Validate(roots, certificate, chain, errors);
    }

    /// <summary>The check itself: no error but a chain error from the platform, and a chain to one of <paramref name="roots"/>.</summary>
    public static bool Validate(X509Certificate2Collection roots, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        ArgumentNullException.ThrowIfNull(roots);
        // Name mismatch or no certificate: refused whatever the chain (the platform's chain error is ours to decide).
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(roots);
        // A private mesh CA publishes no revocation lists; rotation is by short-lived certificates.
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        custom.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
        if (chain is not null)
        {
            // The intermediates the server sent.
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return custom.Build(leaf);
    }
}
