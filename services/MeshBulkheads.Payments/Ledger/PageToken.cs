using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace MeshBulkheads.Payments.Ledger;

/// <summary>
/// The opaque <c>page_token</c>: base64url of a version byte, the last sequence returned and the
/// account id. Keyset pagination on the sequence means concurrent inserts (which get higher
/// sequences) never shift or duplicate later pages.
/// </summary>
public static class PageToken
{
    private const byte Version = 1;

    /// <summary>Encodes a cursor for <paramref name="accountId"/> that continues below <paramref name="beforeSequence"/>.</summary>
    public static string Encode(string accountId, long beforeSequence)
    {
        var account = Encoding.UTF8.GetBytes(accountId);
        var bytes = new byte[1 + sizeof(long) + account.Length];
        bytes[0] = Version;
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(1), beforeSequence);
        account.CopyTo(bytes.AsSpan(1 + sizeof(long)));
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>Decodes a token; false when it is malformed or was issued for another account.</summary>
    public static bool TryDecode(string token, string accountId, [NotNullWhen(true)] out long? beforeSequence)
    {
        beforeSequence = null;
        if (token.Length is 0 or > 256)
        {
            return false;
        }

        var base64 = token.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
        var buffer = new byte[base64.Length];
        if (!Convert.TryFromBase64String(base64, buffer, out var length) || length <= 1 + sizeof(long) || buffer[0] != Version)
        {
            return false;
        }

        var sequence = BinaryPrimitives.ReadInt64BigEndian(buffer.AsSpan(1));
        var account = Encoding.UTF8.GetString(buffer, 1 + sizeof(long), length - 1 - sizeof(long));
        if (sequence <= 0 || !string.Equals(account, accountId, StringComparison.Ordinal))
        {
            return false;
        }

        beforeSequence = sequence;
        return true;
    }
}
