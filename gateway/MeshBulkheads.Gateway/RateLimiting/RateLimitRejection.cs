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
        [new(MeshMetadata.RejectReason, reason), .. BulkheadRejectionMapper.PushbackMetadata(retryAfter)];

    /// <summary>Whole milliseconds, rounded up, as sent in <c>grpc-retry-pushback-ms</c>.</summary>
    public static long PushbackMs(TimeSpan retryAfter) => BulkheadRejectionMapper.ToPushbackMilliseconds(retryAfter);

    public static Task WriteAsync(HttpContext context, string reason, string message, TimeSpan retryAfter) =>
        GrpcTrailersOnlyResponse.WriteAsync(
            context,
            StatusCode.ResourceExhausted,
            message,
            StatusCodes.Status429TooManyRequests,
            Metadata(reason, retryAfter));
}
