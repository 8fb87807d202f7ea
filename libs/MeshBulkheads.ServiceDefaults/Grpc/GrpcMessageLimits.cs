using Grpc.AspNetCore.Server;

namespace MeshBulkheads.ServiceDefaults.Grpc;

/// <summary>
/// Bounds what a service accepts before it parses: each service's <c>MaxReceiveMessageSize</c> comes
/// from its largest valid request (docs/sizing.md, "Message size limits — services"), not the 4 MB
/// default. Request decompression is off in every process (set by <c>AddServiceDefaults</c>).
/// </summary>
public static class GrpcMessageLimits
{
    /// <summary>The smallest limit handed out: room for additive proto changes on tiny requests.</summary>
    public const int MinimumKb = 4;

    /// <summary>Headroom over the largest valid request (unknown fields from newer clients, estimate slack).</summary>
    public const int Headroom = 2;

    /// <summary>
    /// The limit in KB for a service whose largest valid request is <paramref name="largestValidRequestBytes"/>:
    /// twice it, rounded up to a whole KB, at least <see cref="MinimumKb"/>.
    /// </summary>
    public static int KbFor(long largestValidRequestBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(largestValidRequestBytes);
        var kb = (int)Math.Min(int.MaxValue / 1024, ((largestValidRequestBytes * Headroom) + 1023) / 1024);
        return Math.Max(MinimumKb, kb);
    }

    /// <summary>
    /// Sets <see cref="GrpcServiceOptions.MaxReceiveMessageSize"/> to <paramref name="kilobytes"/> KB. A
    /// larger message is refused with <c>RESOURCE_EXHAUSTED</c> from its 5-byte length prefix, before
    /// it is buffered or parsed.
    /// </summary>
    public static GrpcServiceOptions LimitReceiveMessageKb(this GrpcServiceOptions options, int kilobytes)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(kilobytes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(kilobytes, int.MaxValue / 1024);
        options.MaxReceiveMessageSize = kilobytes * 1024;
        return options;
    }
}
