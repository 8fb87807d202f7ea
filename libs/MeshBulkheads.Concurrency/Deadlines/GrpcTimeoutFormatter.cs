using System.Globalization;

namespace MeshBulkheads.Concurrency.Deadlines;

/// <summary>
/// Writes a <c>grpc-timeout</c> header value (1 to 8 digits and a unit, the format
/// <see cref="GrpcTimeoutParser"/> reads), for a proxy or client that forwards what is left of a deadline.
/// </summary>
/// <remarks>
/// The value is rounded <em>down</em> so the receiver never gets more time than the sender has left, in the
/// finest unit whose value fits in 8 digits (microseconds up to about 100 s, then milliseconds up to about
/// 27 hours, then seconds, capped at 99 999 999 s).
/// </remarks>
public static class GrpcTimeoutFormatter
{
    private const long MaxValue = 99_999_999;

    /// <summary>Formats a timeout.</summary>
    /// <param name="timeout">The time left.</param>
    /// <returns>The header value, e.g. <c>1500000u</c>, or null when less than one microsecond is left (zero or negative
    /// included): the caller should answer <c>DEADLINE_EXCEEDED</c> instead of forwarding.</returns>
    public static string? Format(TimeSpan timeout)
    {
        var micros = timeout.Ticks / TimeSpan.TicksPerMicrosecond;
        if (micros <= 0)
        {
            return null;
        }

        if (micros <= MaxValue)
        {
            return WithUnit(micros, 'u');
        }

        var millis = timeout.Ticks / TimeSpan.TicksPerMillisecond;
        if (millis <= MaxValue)
        {
            return WithUnit(millis, 'm');
        }

        return WithUnit(Math.Min(MaxValue, timeout.Ticks / TimeSpan.TicksPerSecond), 'S');
    }

    // One string per header (formatted on the stack), not a number string and a concatenation: the gateway formats one per call.
    private static string WithUnit(long value, char unit) => string.Create(CultureInfo.InvariantCulture, $"{value}{unit}");
}
