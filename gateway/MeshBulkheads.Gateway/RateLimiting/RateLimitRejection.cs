using System.Globalization;
using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;

namespace MeshBulkheads.Gateway.RateLimiting;

/// <summary>
/// Writes a rate-limit rejection: Trailers-Only <c>RESOURCE_EXHAUSTED</c> with
/// <c>grpc-retry-pushback-ms</c> (the time until the bucket has the tokens), <c>retry-after</c> in
/// whole seconds rounded up, and the reject reason; plain HTTP callers get 429 with Retry-After.
/// </summary>
internal static class RateLimitRejection
{
    public static IReadOnlyList<KeyValuePair<string, string>> Metadata(string reason, TimeSpan retryAfter) =>
    [
        new(MeshMetadata.RejectReason, reason),
        new(MeshMetadata.RetryPushbackMs, PushbackMs(retryAfter).ToString(CultureInfo.InvariantCulture)),
        new(MeshMetadata.RetryAfter, RetryAfterSeconds(retryAfter).ToString(CultureInfo.InvariantCulture)),
    ];

    /// <summary>Whole milliseconds, rounded up so a client never retries a moment too early.</summary>
    public static long PushbackMs(TimeSpan retryAfter) => Math.Max(1, (long)Math.Ceiling(retryAfter.TotalMilliseconds));

    /// <summary>Whole seconds, rounded up, at least 1 (HTTP Retry-After has no fractions).</summary>
    public static long RetryAfterSeconds(TimeSpan retryAfter) => Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));

    public static Task WriteAsync(HttpContext context, string reason, string message, TimeSpan retryAfter) =>
        GrpcTrailersOnlyResponse.WriteAsync(
            context,
            StatusCode.ResourceExhausted,
            message,
            StatusCodes.Status429TooManyRequests,
            Metadata(reason, retryAfter));
}
