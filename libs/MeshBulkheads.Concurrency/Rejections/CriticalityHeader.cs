using MeshBulkheads.Concurrency.Bulkheads;

namespace MeshBulkheads.Concurrency.Rejections;

/// <summary>The values of <c>x-mesh-criticality</c> (<see cref="MeshMetadata.Criticality"/>) and their parsing.</summary>
/// <remarks>
/// A missing header is not decided here: callers use <c>BulkheadRoutingOptions.DefaultCriticality</c>
/// (<c>Bulkheads:DefaultCriticality</c>) so every component of one process reads a missing value alike.
/// </remarks>
public static class CriticalityHeader
{
    /// <summary>The wire value of <see cref="BulkheadCriticality.Critical"/>.</summary>
    public const string Critical = "critical";

    /// <summary>The wire value of <see cref="BulkheadCriticality.Sheddable"/>.</summary>
    public const string Sheddable = "sheddable";

    /// <summary>The header value to send (forwarded on fan-out).</summary>
    /// <param name="criticality">The criticality.</param>
    /// <returns><c>critical</c> or <c>sheddable</c>.</returns>
    public static string ToValue(BulkheadCriticality criticality) =>
        criticality == BulkheadCriticality.Sheddable ? Sheddable : Critical;

    /// <summary>Parses a header value strictly (case-insensitive).</summary>
    /// <param name="value">The header value.</param>
    /// <param name="criticality">The criticality when the value is <c>critical</c> or <c>sheddable</c>.</param>
    /// <returns>False for a missing, empty or unknown value.</returns>
    public static bool TryParse(string? value, out BulkheadCriticality criticality)
    {
        if (string.Equals(value, Sheddable, StringComparison.OrdinalIgnoreCase))
        {
            criticality = BulkheadCriticality.Sheddable;
            return true;
        }

        criticality = BulkheadCriticality.Critical;
        return string.Equals(value, Critical, StringComparison.OrdinalIgnoreCase);
    }
}
