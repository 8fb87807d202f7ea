namespace MeshBulkheads.Concurrency.Rejections;

/// <summary>
/// Shapes a caller-supplied value before it is echoed in a <c>grpc-message</c> or a log line. Echoed
/// values are bounded: a status travels in a (Trailers-Only) header block, and an unbounded echo of
/// caller input can exceed a proxy's response-header limit and turn a clear status into a transport
/// failure.
/// </summary>
public static class EchoedValue
{
    /// <summary>The most characters of a caller's value any message repeats.</summary>
    public const int MaxLength = 64;

    /// <summary>
    /// <paramref name="value"/> quoted, cut to <see cref="MaxLength"/> characters (with "…" and the full
    /// length when cut), control characters shown as <c>?</c>.
    /// </summary>
    /// <param name="value">The caller's value.</param>
    /// <returns>The quoted value (the text <c>null</c> for null).</returns>
    public static string Quote(string? value)
    {
        if (value is null)
        {
            return "null";
        }

        var cut = value.Length > MaxLength;
        var shown = cut ? value[..MaxLength] : value;
        var chars = shown.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsControl(chars[i]) || char.IsSurrogate(chars[i]))
            {
                chars[i] = '?';
            }
        }

        return cut ? $"'{new string(chars)}…' ({value.Length} characters)" : $"'{new string(chars)}'";
    }
}
