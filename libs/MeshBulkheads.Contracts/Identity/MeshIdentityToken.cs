using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace MeshBulkheads.Contracts.Identity;

/// <summary>
/// The mesh's identity token: what the gateway says about one forwarded call, signed with the key of the one service
/// it is for, so that service can check it and nobody without that key can mint one. Part of the wire contract, shared
/// by the gateway (mints), the services (verify) and tools that call a service directly (<c>meshload token</c>).
/// </summary>
/// <remarks>
/// <para>Canonical format (docs/security.md): <c>v1.&lt;kid&gt;.&lt;claims&gt;.&lt;mac&gt;</c>, where <c>kid</c> is the key id
/// (1–32 characters of a-z, 0-9 and '-'), <c>claims</c> is the unpadded base64url of the UTF-8 text
/// <c>tenant LF audience LF method LF expires LF token-id LF criticality LF actor</c> (<c>expires</c> in Unix
/// milliseconds, <c>actor</c> empty unless the token was delegated), and <c>mac</c> the unpadded base64url of
/// HMAC-SHA256(key, ASCII of <c>v1.&lt;kid&gt;.&lt;claims&gt;</c>). The MAC is checked, with
/// <see cref="CryptographicOperations.FixedTimeEquals"/>, before a byte of the claims is decoded.</para>
/// <para>A token is bound to its tenant, audience and exact method and expires with the call's deadline (plus a small skew
/// allowance); it is not single-use: whoever sniffs one on a cleartext hop can replay it on the same method until it
/// expires (docs/security.md, "Residual risk").</para>
/// </remarks>
public static class MeshIdentityToken
{
    /// <summary>The metadata key of the token a service verifies.</summary>
    public const string Header = "x-mesh-identity";

    /// <summary>
    /// The metadata key of a delegation token: minted by the gateway for a service's downstream call (reporting →
    /// payments <c>GetBalance</c>), forwarded unchanged as the downstream call's <see cref="Header"/>.
    /// </summary>
    public const string DelegationHeader = "x-mesh-delegation";

    /// <summary>The only format version.</summary>
    public const string Version = "v1";

    /// <summary>The shortest key accepted: 32 bytes (256 bits, HMAC-SHA256's output size).</summary>
    public const int MinKeyBytes = 32;

    /// <summary>The longest token read; anything longer is malformed without being looked at.</summary>
    public const int MaxLength = 1024;

    private const int MacBytes = 32;
    private const int MacChars = 43;
    private const int MaxKeyIdLength = 32;
    private const char Separator = '\n';

    /// <summary>Whether <paramref name="keyId"/> is a valid key id (1–32 characters of a-z, 0-9 and '-').</summary>
    public static bool IsValidKeyId(string? keyId)
    {
        if (string.IsNullOrEmpty(keyId) || keyId.Length > MaxKeyIdLength)
        {
            return false;
        }

        foreach (var c in keyId)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Decodes a configured key (standard base64 of at least <see cref="MinKeyBytes"/> bytes), or null when it is not one.</summary>
    public static byte[]? DecodeKey(string? base64)
    {
        if (string.IsNullOrWhiteSpace(base64))
        {
            return null;
        }

        try
        {
            var key = Convert.FromBase64String(base64.Trim());
            return key.Length >= MinKeyBytes ? key : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>A new random key, base64, as configuration holds it (<c>make run</c>, the chart, tests).</summary>
    public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(MinKeyBytes));

    /// <summary>A new random token id (96 bits, base64url).</summary>
    public static string NewTokenId()
    {
        Span<byte> bytes = stackalloc byte[12];
        RandomNumberGenerator.Fill(bytes);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>Mints a token for <paramref name="claims"/> with the key <paramref name="keyId"/>.</summary>
    /// <exception cref="ArgumentException">The key id, key or a claim is invalid (a claim holds a line feed, or the token would be too long).</exception>
    public static string Mint(MeshIdentityClaims claims, string keyId, ReadOnlySpan<byte> key)
    {
        ArgumentNullException.ThrowIfNull(claims);
        if (!IsValidKeyId(keyId))
        {
            throw new ArgumentException($"Key id '{keyId}' must be 1-{MaxKeyIdLength} characters of a-z, 0-9 and '-'.", nameof(keyId));
        }

        if (key.Length < MinKeyBytes)
        {
            throw new ArgumentException($"An identity key must be at least {MinKeyBytes} bytes.", nameof(key));
        }

        var text = string.Join(
            Separator,
            Claim(claims.Tenant),
            Claim(claims.Audience),
            Claim(claims.Method),
            claims.Expires.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
            Claim(claims.TokenId),
            Claim(claims.Criticality),
            claims.Actor is null ? string.Empty : Claim(claims.Actor));
        var signed = $"{Version}.{keyId}.{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text))}";
        Span<byte> mac = stackalloc byte[MacBytes];
        Sign(key, signed, mac);
        var token = $"{signed}.{Base64Url.EncodeToString(mac)}";
        return token.Length <= MaxLength ? token : throw new ArgumentException($"The token would be {token.Length} characters, over {MaxLength}.", nameof(claims));
    }

    /// <summary>
    /// Checks <paramref name="token"/>'s format and MAC with the key its kid names, then its expiry, audience and
    /// method, and returns the first check that failed (or <see cref="MeshIdentityTokenResult.Valid"/> with the claims).
    /// </summary>
    /// <param name="token">The token as sent.</param>
    /// <param name="keys">The verifier's live keys by key id (its own audience's only).</param>
    /// <param name="audience">The verifier's audience (its service name).</param>
    /// <param name="method">The gRPC method being called, exactly as routed (<c>/package.Service/Method</c>).</param>
    /// <param name="now">The verifier's clock.</param>
    /// <param name="claims">The claims, when the token is valid.</param>
    public static MeshIdentityTokenResult Verify(
        string? token, IReadOnlyDictionary<string, byte[]> keys, string audience, string method, DateTimeOffset now, out MeshIdentityClaims? claims)
    {
        ArgumentNullException.ThrowIfNull(keys);
        claims = null;
        if (string.IsNullOrEmpty(token))
        {
            return MeshIdentityTokenResult.Missing;
        }

        if (token.Length > MaxLength || !token.StartsWith(Version + ".", StringComparison.Ordinal))
        {
            return MeshIdentityTokenResult.Malformed;
        }

        var rest = token.AsSpan(Version.Length + 1);
        var kidEnd = rest.IndexOf('.');
        var macStart = rest.LastIndexOf('.');
        if (kidEnd <= 0 || macStart <= kidEnd + 1)
        {
            return MeshIdentityTokenResult.Malformed;
        }

        if (!keys.TryGetValue(rest[..kidEnd].ToString(), out var key))
        {
            return MeshIdentityTokenResult.UnknownKey;
        }

        if (!MacMatches(key, token.AsSpan(0, Version.Length + 1 + macStart), rest[(macStart + 1)..]))
        {
            return MeshIdentityTokenResult.BadSignature;
        }

        // Authentic from here on: the gateway wrote these bytes.
        if (!TryParseClaims(rest[(kidEnd + 1)..macStart], out var read))
        {
            return MeshIdentityTokenResult.Malformed;
        }

        claims = read;
        if (now >= read.Expires)
        {
            return MeshIdentityTokenResult.Expired;
        }

        if (!string.Equals(read.Audience, audience, StringComparison.Ordinal))
        {
            return MeshIdentityTokenResult.WrongAudience;
        }

        return string.Equals(read.Method, method, StringComparison.Ordinal) ? MeshIdentityTokenResult.Valid : MeshIdentityTokenResult.WrongMethod;
    }

    private static bool MacMatches(ReadOnlySpan<byte> key, ReadOnlySpan<char> signed, ReadOnlySpan<char> presented)
    {
        // Compared as canonical text, not decoded bytes: base64url's last character carries 2 unused bits, so
        // decoding would accept 4 spellings of one MAC (a token is then not one exact string).
        if (presented.Length != MacChars)
        {
            return false;
        }

        Span<byte> mac = stackalloc byte[MacBytes];
        Sign(key, signed, mac);
        Span<byte> expected = stackalloc byte[MacChars];
        Base64Url.EncodeToUtf8(mac, expected);
        Span<byte> sent = stackalloc byte[MacChars];
        var ascii = true;
        for (var i = 0; i < MacChars; i++)
        {
            ascii &= presented[i] < 128;
            sent[i] = (byte)presented[i];
        }

        return CryptographicOperations.FixedTimeEquals(expected, sent) && ascii;
    }

    private static void Sign(ReadOnlySpan<byte> key, ReadOnlySpan<char> signed, Span<byte> mac)
    {
        // The signed part is ASCII by construction (version, kid, base64url); a stray non-ASCII char only changes the MAC.
        var length = Encoding.UTF8.GetByteCount(signed);
        byte[]? rented = null;
        var bytes = length <= 512 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        try
        {
            Encoding.UTF8.GetBytes(signed, bytes);
            HmacCache.For(key).TryComputeHash(bytes, mac, out _);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static bool TryParseClaims(ReadOnlySpan<char> encoded, out MeshIdentityClaims claims)
    {
        claims = null!;
        var maxBytes = Base64Url.GetMaxDecodedLength(encoded.Length);
        Span<byte> bytes = maxBytes <= MaxLength ? stackalloc byte[maxBytes] : new byte[maxBytes];
        if (Base64Url.DecodeFromChars(encoded, bytes, out _, out var written) != OperationStatus.Done)
        {
            return false;
        }

        var parts = Encoding.UTF8.GetString(bytes[..written]).Split(Separator);
        if (parts.Length != 7 || !long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            || expires > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            return false;
        }

        claims = new MeshIdentityClaims(
            parts[0], parts[1], parts[2], DateTimeOffset.FromUnixTimeMilliseconds(expires), parts[4], parts[5], parts[6].Length == 0 ? null : parts[6]);
        return true;
    }

    private static string Claim(string value) =>
        value.Contains(Separator, StringComparison.Ordinal) ? throw new ArgumentException("A claim must not contain a line feed.", nameof(value)) : value;

    /// <summary>
    /// A few keyed HMAC-SHA256 instances per thread: the one-shot <see cref="HMACSHA256.HashData(ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/>
    /// sets up a new OpenSSL MAC context on every call, which cost 2-3× the MAC itself here (measured: one-shot 4.3 µs,
    /// a reused instance 1.7 µs per 180-byte token, on these shared cores). A service verifies with one key, the gateway
    /// mints with one per service; rotation adds a second. The cached key is compared in plain time: both sides are our
    /// own keys (a caller only picks which one, by the kid).
    /// </summary>
    private static class HmacCache
    {
        private const int Slots = 4;

        [ThreadStatic]
        private static (byte[] Key, HMACSHA256 Hmac)[]? t_slots;

        [ThreadStatic]
        private static int t_next;

        public static HMACSHA256 For(ReadOnlySpan<byte> key)
        {
            var slots = t_slots ??= new (byte[], HMACSHA256)[Slots];
            foreach (var (cachedKey, hmac) in slots)
            {
                if (cachedKey is not null && key.SequenceEqual(cachedKey))
                {
                    return hmac;
                }
            }

            var slot = t_next;
            t_next = (slot + 1) % Slots;
            slots[slot].Hmac?.Dispose();
            var copy = key.ToArray();
            var created = new HMACSHA256(copy);
            slots[slot] = (copy, created);
            return created;
        }
    }
}

/// <summary>What an identity token says.</summary>
/// <param name="Tenant">The authenticated tenant.</param>
/// <param name="Audience">The one service the token is for (<c>payments</c>, <c>reporting</c>, <c>render</c>).</param>
/// <param name="Method">The exact gRPC method path it may call (<c>/meshbulkheads.payments.v1.PaymentsService/GetBalance</c>).</param>
/// <param name="Expires">When it stops being valid: the forwarded deadline plus the minter's skew allowance.</param>
/// <param name="TokenId">A random id, for logs and spans.</param>
/// <param name="Criticality">The call's criticality as the gateway decided it (<c>critical</c>/<c>sheddable</c>); <c>x-mesh-criticality</c> may only lower it.</param>
/// <param name="Actor">For a delegation token, the service it was delegated to (<c>reporting</c>); otherwise null.</param>
public sealed record MeshIdentityClaims(
    string Tenant, string Audience, string Method, DateTimeOffset Expires, string TokenId, string Criticality, string? Actor = null);

/// <summary>The outcome of <see cref="MeshIdentityToken.Verify"/>, in the order the checks run.</summary>
public enum MeshIdentityTokenResult
{
    /// <summary>Authentic, unexpired, for this audience and method.</summary>
    Valid,

    /// <summary>No token was sent.</summary>
    Missing,

    /// <summary>Not <c>v1.&lt;kid&gt;.&lt;claims&gt;.&lt;mac&gt;</c>, too long, or authentic claims that do not parse.</summary>
    Malformed,

    /// <summary>Its key id is not one of the verifier's live keys (rotated out, another audience's, or invented).</summary>
    UnknownKey,

    /// <summary>The MAC does not match: forged or altered.</summary>
    BadSignature,

    /// <summary>Authentic, but past its expiry.</summary>
    Expired,

    /// <summary>Authentic, but for another service.</summary>
    WrongAudience,

    /// <summary>Authentic, but for another method.</summary>
    WrongMethod,
}
