namespace MeshBulkheads.Concurrency.Deadlines;

/// <summary>The outcome of reading a raw <c>grpc-timeout</c> header.</summary>
public enum GrpcTimeoutParseResult
{
    /// <summary>No header: the method's default deadline applies.</summary>
    Absent = 0,

    /// <summary>A positive timeout.</summary>
    Valid,

    /// <summary>Zero or negative: the deadline has already passed (<c>DEADLINE_EXCEEDED</c>).</summary>
    NonPositive,

    /// <summary>Not <c>1*8DIGIT unit</c> with unit one of H M S m u n (<c>INVALID_ARGUMENT</c>).</summary>
    Malformed,
}

/// <summary>
/// Parses <c>grpc-timeout</c> as the gRPC HTTP/2 protocol defines it: <c>TimeoutValue TimeoutUnit</c>,
/// 1 to 8 ASCII digits followed by <c>H</c> (hours), <c>M</c> (minutes), <c>S</c>, <c>m</c>, <c>u</c> or <c>n</c>.
/// </summary>
/// <remarks>
/// grpc-dotnet ignores a zero or malformed value, so the call silently runs with no deadline; this parser lets
/// the <see cref="DeadlineInterceptor"/> reject those instead. A leading <c>-</c> (not allowed by the protocol)
/// is read as a negative timeout, i.e. already expired.
/// </remarks>
public static class GrpcTimeoutParser
{
    /// <summary>The most digits the protocol allows.</summary>
    public const int MaxDigits = 8;

    /// <summary>Parses a header value.</summary>
    /// <param name="value">The raw header value, or null when absent.</param>
    /// <param name="timeout">The timeout when <see cref="GrpcTimeoutParseResult.Valid"/>; otherwise zero.</param>
    /// <returns>What the value means.</returns>
    public static GrpcTimeoutParseResult Parse(string? value, out TimeSpan timeout)
    {
        timeout = TimeSpan.Zero;
        if (value is null)
        {
            return GrpcTimeoutParseResult.Absent;
        }

        var span = value.AsSpan();
        var negative = span.Length > 0 && span[0] == '-';
        if (negative)
        {
            span = span[1..];
        }

        if (span.Length < 2 || span.Length - 1 > MaxDigits)
        {
            return GrpcTimeoutParseResult.Malformed;
        }

        long amount = 0;
        foreach (var c in span[..^1])
        {
            if (c is < '0' or > '9')
            {
                return GrpcTimeoutParseResult.Malformed;
            }

            amount = (amount * 10) + (c - '0');
        }

        // At most 99 999 999 of a unit: hours fit in a TimeSpan (about 256 million hours), so no overflow.
        long? ticks = span[^1] switch
        {
            'H' => amount * TimeSpan.TicksPerHour,
            'M' => amount * TimeSpan.TicksPerMinute,
            'S' => amount * TimeSpan.TicksPerSecond,
            'm' => amount * TimeSpan.TicksPerMillisecond,
            'u' => amount * TimeSpan.TicksPerMicrosecond,
            'n' => (amount + 99) / 100, // Round nanoseconds up so "1n" is not read as zero.
            _ => null,
        };

        if (ticks is not { } t)
        {
            return GrpcTimeoutParseResult.Malformed;
        }

        if (negative || amount == 0)
        {
            return GrpcTimeoutParseResult.NonPositive;
        }

        timeout = TimeSpan.FromTicks(t);
        return GrpcTimeoutParseResult.Valid;
    }
}
