using System.Buffers.Binary;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace MeshBulkheads.Payments.Ledger;

/// <summary>
/// The opaque <c>page_token</c>, encrypted and authenticated: <c>v2.&lt;kid&gt;.&lt;base64url(nonce ‖ ciphertext ‖ tag)&gt;</c>,
/// AES-256-GCM over the last sequence returned, with the tenant and the account as associated data. A tenant
/// learns nothing from it (the sequence is global: in plain text it told one tenant how many payments every
/// other tenant made between two pages), cannot forge or alter one (the tag fails), and cannot use one issued
/// to another tenant or for another account (the associated data differs). Keyset pagination on the sequence
/// means concurrent inserts (higher sequences) never shift or duplicate later pages.
/// </summary>
/// <remarks>
/// Keys come from <c>Payments:PageTokens</c> (<see cref="PageTokenOptions"/>): every replica behind one service
/// must share them, tokens are sealed with <see cref="PageTokenOptions.CurrentKeyId"/> and opened with any listed
/// key, so a key is rotated by adding the new one, making it current, and removing the old one once its tokens
/// are no longer needed. Without keys (make run, tests) the process generates a random key at start: its tokens
/// do not survive a restart or reach another replica, and a warning says so.
/// </remarks>
public sealed class PageTokenProtector
{
    private const string Version = "v2";
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int MaxTokenLength = 256;

    private readonly Dictionary<string, byte[]> _keys;
    private readonly string _currentKeyId;

    public PageTokenProtector(IOptions<PaymentsOptions> options, ILogger<PageTokenProtector> logger)
    {
        var tokens = options.Value.PageTokens;
        if (tokens.Keys.Count == 0)
        {
            _currentKeyId = "local";
            _keys = new Dictionary<string, byte[]>(StringComparer.Ordinal) { [_currentKeyId] = RandomNumberGenerator.GetBytes(32) };
            PaymentsLog.PageTokenKeyGenerated(logger, PaymentsOptions.SectionName + ":" + PaymentsOptions.PageTokensSectionName);
            return;
        }

        _keys = tokens.Keys.ToDictionary(k => k.Key, k => Convert.FromBase64String(k.Value), StringComparer.Ordinal);
        _currentKeyId = tokens.CurrentKeyId!;
    }

    /// <summary>A token for <paramref name="tenant"/>'s <paramref name="accountId"/> that continues below <paramref name="beforeSequence"/>.</summary>
    public string Seal(string tenant, string accountId, long beforeSequence)
    {
        Span<byte> plaintext = stackalloc byte[sizeof(long)];
        BinaryPrimitives.WriteInt64BigEndian(plaintext, beforeSequence);
        var sealedBytes = new byte[NonceSize + plaintext.Length + TagSize];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using (var aes = new AesGcm(_keys[_currentKeyId], TagSize))
        {
            aes.Encrypt(nonce, plaintext, sealedBytes.AsSpan(NonceSize, plaintext.Length), sealedBytes.AsSpan(NonceSize + plaintext.Length), AssociatedData(tenant, accountId));
        }

        return $"{Version}.{_currentKeyId}.{Base64Url.EncodeToString(sealedBytes)}";
    }

    /// <summary>Opens a token; false when it is malformed, altered, sealed with a key no longer listed, or issued to another tenant or account.</summary>
    public bool TryOpen(string token, string tenant, string accountId, [NotNullWhen(true)] out long? beforeSequence)
    {
        beforeSequence = null;
        if (token.Length is 0 or > MaxTokenLength)
        {
            return false;
        }

        var parts = token.Split('.');
        if (parts.Length != 3 || parts[0] != Version || !_keys.TryGetValue(parts[1], out var key))
        {
            return false;
        }

        byte[] sealedBytes;
        try
        {
            sealedBytes = Base64Url.DecodeFromChars(parts[2]);
        }
        catch (FormatException)
        {
            return false;
        }

        if (sealedBytes.Length != NonceSize + sizeof(long) + TagSize)
        {
            return false;
        }

        Span<byte> plaintext = stackalloc byte[sizeof(long)];
        try
        {
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(sealedBytes.AsSpan(0, NonceSize), sealedBytes.AsSpan(NonceSize, sizeof(long)), sealedBytes.AsSpan(NonceSize + sizeof(long)), plaintext, AssociatedData(tenant, accountId));
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }

        var sequence = BinaryPrimitives.ReadInt64BigEndian(plaintext);
        if (sequence <= 0)
        {
            return false;
        }

        beforeSequence = sequence;
        return true;
    }

    // Tenant and account, NUL-separated (neither may contain NUL: both are validated before a token is used).
    private static byte[] AssociatedData(string tenant, string accountId) => Encoding.UTF8.GetBytes($"{tenant}\0{accountId}");
}
