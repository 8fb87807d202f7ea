using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace MeshBulkheads.Contracts.Identity;

/// <summary>
/// How the mesh stores a tenant's API key: the SHA-256 of its UTF-8 bytes, written <c>sha256:&lt;64 lowercase hex&gt;</c>
/// in <c>Gateway:ApiKeysFile</c>. The one home of that rule, shared by the gateway (which hashes every presented key and
/// every configured one, and compares hashes in constant time) and <c>meshload key-hash</c> / <c>key-new</c> (which print
/// the stored form of a new key).
/// </summary>
public static class ApiKeyHash
{
    /// <summary>The prefix of a stored hash.</summary>
    public const string Prefix = "sha256:";

    /// <summary>The length of a stored hash: the prefix and 64 hex digits.</summary>
    public const int StoredLength = 7 + (2 * SHA256.HashSizeInBytes);

    /// <summary>The shortest key a Production gateway accepts (the chart and <c>meshload key-new</c> generate 32 random alphanumerics).</summary>
    public const int MinimumProductionLength = 32;

    /// <summary>The longest key the gateway hashes (longer ones are refused unhashed).</summary>
    public const int MaxKeyLength = 256;

    // Encoding.UTF8.GetMaxByteCount(MaxKeyLength): 3 bytes per character plus one for a split surrogate.
    private const int MaxStackBytes = 3 * (MaxKeyLength + 1);

    /// <summary>
    /// Writes the SHA-256 of <paramref name="key"/>'s UTF-8 bytes to <paramref name="destination"/> (32 bytes). Keys of up
    /// to <see cref="MaxKeyLength"/> characters are encoded on the stack, longer ones in a pooled buffer; either is zeroed.
    /// </summary>
    public static void Compute(ReadOnlySpan<char> key, Span<byte> destination)
    {
        var length = Encoding.UTF8.GetMaxByteCount(key.Length);
        var rented = length <= MaxStackBytes ? null : ArrayPool<byte>.Shared.Rent(length);
        Span<byte> utf8 = rented is null ? stackalloc byte[MaxStackBytes] : rented;
        var written = 0;
        try
        {
            written = Encoding.UTF8.GetBytes(key, utf8);
            SHA256.HashData(utf8[..written], destination);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(utf8[..written]);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The SHA-256 of <paramref name="key"/> (a new 32-byte array).</summary>
    public static byte[] Compute(ReadOnlySpan<char> key)
    {
        var hash = new byte[SHA256.HashSizeInBytes];
        Compute(key, hash);
        return hash;
    }

    /// <summary>The stored form of <paramref name="key"/>: <c>sha256:&lt;hex&gt;</c>.</summary>
    public static string Format(ReadOnlySpan<char> key) => Prefix + Convert.ToHexStringLower(Compute(key));

    /// <summary>Whether <paramref name="value"/> claims to be a stored hash (starts with <see cref="Prefix"/>).</summary>
    public static bool LooksStored(string value) => value.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Parses a stored hash (<c>sha256:</c> and 64 hex digits, either case); false for anything else.</summary>
    public static bool TryParse(string value, [NotNullWhen(true)] out byte[]? hash)
    {
        hash = null;
        if (value.Length != StoredLength || !LooksStored(value))
        {
            return false;
        }

        var hex = value.AsSpan(Prefix.Length);
        foreach (var c in hex)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        hash = Convert.FromHexString(hex);
        return true;
    }
}
