using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace MeshBulkheads.ServiceDefaults.Tls.Internal;

/// <summary>
/// The gRPC listener's server certificate, loaded from <see cref="MeshTlsOptions.CertificateFile"/> and
/// <see cref="MeshTlsOptions.KeyFile"/> at start (an unusable pair stops the start) and read again every
/// <see cref="MeshTlsOptions.CheckInterval"/>: changed bytes that load are served to the next new connection
/// (<c>TlsCertificateReloaded</c>); an invalid pair is logged once (<c>TlsCertificateRejected</c>) and the last good
/// certificate keeps serving. Connections already open keep the certificate of their handshake.
/// </summary>
/// <remarks>
/// It polls the content rather than using a file-system watcher, as the API keys file does: a Kubernetes Secret
/// volume updates by renaming its <c>..data</c> symlink onto a new directory, which the file's own path never sees as a
/// write. The SHA-256 of both files' bytes sees a rewrite, a rename onto the path and a symlink swap alike. The timer is
/// the injected <see cref="TimeProvider"/>'s (tests advance it; the check runs synchronously in its callback).
/// </remarks>
internal sealed class ServerCertificateCache : IDisposable
{
    private static readonly List<SslApplicationProtocol> Http2Only = [SslApplicationProtocol.Http2];

    private readonly MeshTlsOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<ServerCertificateCache> _logger;
    private readonly Lock _lock = new();
    private readonly ITimer _timer;
    private Loaded _current;
    private byte[] _seen;

    public ServerCertificateCache(IOptions<MeshTlsOptions> options, TimeProvider timeProvider, ILogger<ServerCertificateCache> logger)
    {
        _options = options.Value;
        _timeProvider = timeProvider;
        _logger = logger;
        var (certificatePem, keyPem) = Read();
        _seen = Fingerprint(certificatePem, keyPem);
        try
        {
            _current = Load(certificatePem, keyPem);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or InvalidOperationException)
        {
            throw new InvalidOperationException(
                $"{MeshTlsOptions.SectionName}: the certificate '{_options.CertificateFile}' with the key '{_options.KeyFile}' cannot serve TLS: {e.Message}", e);
        }

        MeshTlsLog.TlsCertificateLoaded(_logger, _options.CertificateFile!, _current.Certificate.Subject, _current.Certificate.Thumbprint, _current.Certificate.NotAfter);
        _timer = timeProvider.CreateTimer(_ => Check(), null, _options.CheckInterval, _options.CheckInterval);
    }

    /// <summary>The certificate the next handshake presents.</summary>
    public X509Certificate2 Current => Volatile.Read(ref _current).Certificate;

    /// <summary>Kestrel's per-connection TLS options: the current certificate (with its intermediates) and ALPN <c>h2</c> only.</summary>
    public ValueTask<SslServerAuthenticationOptions> OnConnectionAsync(TlsHandshakeCallbackContext context) =>
        ValueTask.FromResult(new SslServerAuthenticationOptions
        {
            ServerCertificateContext = Volatile.Read(ref _current).Context,
            // gRPC is HTTP/2 only: a client that cannot speak h2 fails the handshake instead of getting HTTP/1.1.
            ApplicationProtocols = Http2Only,
            ClientCertificateRequired = false,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        });

    /// <summary>Reads both files and loads them when their bytes changed (the timer's callback).</summary>
    internal void Check()
    {
        lock (_lock)
        {
            byte[] certificatePem;
            byte[] keyPem;
            try
            {
                (certificatePem, keyPem) = Read();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Mid-swap or removed: keep serving; the next check reads again.
                MeshTlsLog.TlsCertificateUnreadable(_logger, _options.CertificateFile!, e.Message);
                return;
            }

            var fingerprint = Fingerprint(certificatePem, keyPem);
            if (fingerprint.AsSpan().SequenceEqual(_seen))
            {
                return;
            }

            _seen = fingerprint;
            try
            {
                var loaded = Load(certificatePem, keyPem);
                // The previous certificate is not disposed: a handshake may still be using it (reloads are rare).
                Volatile.Write(ref _current, loaded);
                MeshTlsLog.TlsCertificateReloaded(_logger, _options.CertificateFile!, loaded.Certificate.Subject, loaded.Certificate.Thumbprint, loaded.Certificate.NotAfter);
            }
            catch (Exception e) when (e is CryptographicException or ArgumentException or InvalidOperationException)
            {
                var kept = Volatile.Read(ref _current).Certificate;
                MeshTlsLog.TlsCertificateRejected(_logger, _options.CertificateFile!, _options.KeyFile!, e.Message, kept.Thumbprint);
            }
        }
    }

    public void Dispose() => _timer.Dispose();

    private (byte[] Certificate, byte[] Key) Read() =>
        (File.ReadAllBytes(_options.CertificateFile!), File.ReadAllBytes(_options.KeyFile!));

    private static byte[] Fingerprint(byte[] certificatePem, byte[] keyPem)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(certificatePem);
        hash.AppendData([0]);
        hash.AppendData(keyPem);
        return hash.GetHashAndReset();
    }

    private Loaded Load(byte[] certificatePem, byte[] keyPem)
    {
        var certificateText = System.Text.Encoding.ASCII.GetString(certificatePem);
        var keyText = System.Text.Encoding.ASCII.GetString(keyPem);
        // Checks that the key is the certificate's (throws CryptographicException otherwise).
        using var withEphemeralKey = X509Certificate2.CreateFromPem(certificateText, keyText);
        // A PKCS#12 round trip gives the key a handle the TLS stack may keep (the ephemeral one is fine on Linux,
        // not everywhere).
        var leaf = X509CertificateLoader.LoadPkcs12(withEphemeralKey.Export(X509ContentType.Pkcs12), null);
        if (!leaf.HasPrivateKey)
        {
            leaf.Dispose();
            throw new InvalidOperationException("the key file holds no private key for the certificate.");
        }

        var now = _timeProvider.GetUtcNow();
        if (leaf.NotAfter.ToUniversalTime() <= now.UtcDateTime)
        {
            var notAfter = leaf.NotAfter;
            leaf.Dispose();
            throw new InvalidOperationException($"the certificate expired at {notAfter:O}.");
        }

        var all = new X509Certificate2Collection();
        all.ImportFromPem(certificateText);
        var intermediates = new X509Certificate2Collection();
        foreach (var certificate in all)
        {
            if (certificate.Thumbprint != leaf.Thumbprint)
            {
                intermediates.Add(certificate);
            }
        }

        // offline: the chain is what the file holds; nothing is fetched at handshake time.
        var context = SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
        return new Loaded(leaf, context);
    }

    private sealed record Loaded(X509Certificate2 Certificate, SslStreamCertificateContext Context);
}
