using Grpc.Core;
using MeshBulkheads.Concurrency.Bulkheads;

namespace MeshBulkheads.Concurrency.Rejections;

/// <summary>The values of <c>x-mesh-criticality</c> (<see cref="MeshMetadata.Criticality"/>) and their parsing.</summary>
/// <remarks>
/// A missing header is not decided here: callers use <c>BulkheadRoutingOptions.DefaultCriticality</c>
/// (<c>Criticality:Default</c>) so every component of one process reads a missing value alike.
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

    /// <summary>
    /// Reads the caller's <c>x-mesh-criticality</c>, the one parser of the mesh: missing or empty →
    /// <paramref name="whenMissing"/>, <c>critical</c> or <c>sheddable</c> (any case) → that value.
    /// </summary>
    /// <param name="value">The header value (several values joined with a comma, which is never valid).</param>
    /// <param name="whenMissing">The criticality of a call without the header.</param>
    /// <param name="criticality">The criticality when the value is valid.</param>
    /// <returns>Null when valid; otherwise the <c>INVALID_ARGUMENT</c> rejection (<c>invalid-criticality</c>): an unknown value is
    /// neither admitted as critical (where it could displace sheddable waiters) nor forwarded.</returns>
    public static MeshRejection? Read(string? value, BulkheadCriticality whenMissing, out BulkheadCriticality criticality)
    {
        if (string.IsNullOrEmpty(value))
        {
            criticality = whenMissing;
            return null;
        }

        return TryParse(value, out criticality)
            ? null
            : new MeshRejection(
                StatusCode.InvalidArgument,
                MeshRejectReasons.InvalidCriticality,
                $"'{MeshMetadata.Criticality}' must be '{Critical}' or '{Sheddable}' (sent once, or absent); got {EchoedValue.Quote(value)}.");
    }
}
