using System.Globalization;

namespace MeshBulkheads.Gateway.Deadlines.Internal;

/// <summary>
/// Writes a <c>grpc-timeout</c> value (at most 8 digits and a unit), rounding down so the backend
/// never gets more time than the caller has left. The shared library only parses the header.
/// </summary>
internal static class GrpcTimeoutFormatter
{
    private const long MaxValue = 99_999_999;

    /// <summary>The header value, or null when less than one microsecond is left.</summary>
    public static string? Format(TimeSpan timeout)
    {
        var micros = timeout.Ticks / TimeSpan.TicksPerMicrosecond;
        if (micros <= 0)
        {
            return null;
        }

        // The finest unit that fits in 8 digits keeps the most precision.
        if (micros <= MaxValue)
        {
            return micros.ToString(CultureInfo.InvariantCulture) + "u";
        }

        var millis = timeout.Ticks / TimeSpan.TicksPerMillisecond;
        if (millis <= MaxValue)
        {
            return millis.ToString(CultureInfo.InvariantCulture) + "m";
        }

        return Math.Min(MaxValue, timeout.Ticks / TimeSpan.TicksPerSecond).ToString(CultureInfo.InvariantCulture) + "S";
    }
}
