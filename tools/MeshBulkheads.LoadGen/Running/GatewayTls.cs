using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MeshBulkheads.Contracts.Tls;

namespace MeshBulkheads.LoadGen.Running;

/// <summary>
/// <c>--ca-file</c>: an <c>https://</c> gateway's certificate checked against a CA file (a Secret's <c>ca.crt</c>) instead
/// of the machine's trust store, by the mesh's one trust rule (<see cref="MeshCertificateTrust"/>: the chain ends at
/// one of the file's certificates and the name matches; never "accept any").
/// </summary>
internal static class GatewayTls
{
    /// <summary>The roots to trust for <paramref name="target"/>, or null for the machine's store; bad input names the file.</summary>
    public static X509Certificate2Collection? LoadRoots(Uri target, string? caFile)
    {
        if (caFile is null)
        {
            return null;
        }

        if (target.Scheme != Uri.UriSchemeHttps)
        {
            throw new BadInputException($"--ca-file checks the gateway's TLS certificate: give an https:// --target (got {target})");
        }

        try
        {
            return MeshCertificateTrust.LoadCaFile(caFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or InvalidOperationException)
        {
            throw new BadInputException($"--ca-file '{caFile}' is not a readable PEM CA file: {ex.Message}");
        }
    }

    /// <summary>Makes <paramref name="handler"/> trust exactly <paramref name="roots"/> (no change when null).</summary>
    public static SocketsHttpHandler Trust(this SocketsHttpHandler handler, X509Certificate2Collection? roots)
    {
        if (roots is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = MeshCertificateTrust.CreateValidationCallback(roots);
        }

        return handler;
    }
}
