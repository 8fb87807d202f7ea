using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace MeshBulkheads.Contracts.Tls;

/// <summary>
/// <see cref="MeshCertificateTrust"/> against a CA file that may be rotated while the process runs (a Secret's
/// <c>ca.crt</c>, updated by kubelet's <c>..data</c> symlink swap): the file is compared again at most every
/// <c>checkInterval</c>, lazily, when a TLS handshake asks (no timer), on the given <see cref="TimeProvider"/>. A changed
/// file that holds certificates is trusted from the next handshake on; a changed file that holds none, or cannot be read,
/// is reported once through <c>rejected</c> and the last good roots keep being trusted. The first read must succeed.
/// </summary>
/// <remarks>
/// During a CA rotation the file should hold the old and the new CA together until every server certificate is from
/// the new one: the file is the whole trust, so a file with only the new CA refuses the servers still on the old one.
/// </remarks>
public sealed class CaFileTrust
{
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _checkInterval;
    private readonly Action<string>? _rejected;
    private readonly Lock _lock = new();
    private X509Certificate2Collection _roots;
    private byte[] _contentHash;
    private byte[]? _rejectedHash;
    private long _checkedAt;

    /// <summary>Reads <paramref name="caFile"/>; fails naming the file when it cannot be read or holds no PEM certificate.</summary>
    public CaFileTrust(string caFile, TimeProvider timeProvider, TimeSpan checkInterval, Action<string>? rejected = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(caFile);
        ArgumentNullException.ThrowIfNull(timeProvider);
        CaFile = caFile;
        _timeProvider = timeProvider;
        _checkInterval = checkInterval;
        _rejected = rejected;
        var bytes = File.ReadAllBytes(caFile);
        _roots = Parse(caFile, bytes);
        _contentHash = SHA256.HashData(bytes);
        _checkedAt = timeProvider.GetTimestamp();
    }

    /// <summary>The CA file (read through symlinks).</summary>
    public string CaFile { get; }

    /// <summary>How many times a changed file was taken (0 until the first rotation).</summary>
    public int Reloads { get; private set; }

    /// <summary>The roots trusted now (the file compared again first when <c>checkInterval</c> has passed).</summary>
    public X509Certificate2Collection Roots
    {
        get
        {
            if (_timeProvider.GetElapsedTime(Volatile.Read(ref _checkedAt)) >= _checkInterval)
            {
                CheckFile();
            }

            return Volatile.Read(ref _roots);
        }
    }

    /// <summary>A validation callback for <see cref="SslClientAuthenticationOptions.RemoteCertificateValidationCallback"/>.</summary>
    public RemoteCertificateValidationCallback ValidationCallback => (_, certificate, chain, errors) => MeshCertificateTrust.Validate(Roots, certificate, chain, errors);

    /// <summary>Every PEM certificate of <paramref name="bytes"/>; fails naming <paramref name="caFile"/> when there is none.</summary>
    internal static X509Certificate2Collection Parse(string caFile, byte[] bytes)
    {
        var roots = new X509Certificate2Collection();
        roots.ImportFromPem(Encoding.ASCII.GetString(bytes));
        return roots.Count > 0 ? roots : throw new InvalidOperationException($"The CA file '{caFile}' holds no PEM certificate.");
    }

    private void CheckFile()
    {
        lock (_lock)
        {
            var now = _timeProvider.GetTimestamp();
            if (_timeProvider.GetElapsedTime(_checkedAt, now) < _checkInterval)
            {
                return;
            }

            Volatile.Write(ref _checkedAt, now);
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(CaFile);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Reject(null, $"The CA file '{CaFile}' could not be read ({e.GetType().Name}: {e.Message}); the certificates read before are still trusted.");
                return;
            }

            var hash = SHA256.HashData(bytes);
            if (hash.AsSpan().SequenceEqual(_contentHash))
            {
                return;
            }

            try
            {
                Volatile.Write(ref _roots, Parse(CaFile, bytes));
                _contentHash = hash;
                _rejectedHash = null;
                Reloads++;
            }
            catch (Exception e) when (e is CryptographicException or InvalidOperationException)
            {
                Reject(hash, $"The changed CA file '{CaFile}' was refused ({e.Message}); the certificates read before are still trusted.");
            }
        }
    }

    private void Reject(byte[]? hash, string message)
    {
        // Once per refused content (an unreadable file: once until it is readable again), not once per handshake.
        var key = hash ?? [];
        if (_rejectedHash is not null && _rejectedHash.AsSpan().SequenceEqual(key))
        {
            return;
        }

        _rejectedHash = key;
        _rejected?.Invoke(message);
    }
}
