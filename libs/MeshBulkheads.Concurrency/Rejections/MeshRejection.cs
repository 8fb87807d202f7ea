using System.Globalization;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace MeshBulkheads.Concurrency.Rejections;

/// <summary>
/// A refusal as it goes on the wire, whoever refused (a bulkhead, a deadline, the gateway, a partition, a pool):
/// the gRPC status, the <c>x-mesh-reject-reason</c> (<see cref="MeshRejectReasons"/>), a message the caller can act
/// on, and, when the caller may retry, how long it should wait. <see cref="ToRpcException"/> throws it from a service,
/// <see cref="WriteAsync"/> writes it from middleware; nothing else writes a rejection.
/// </summary>
/// <param name="Status">The gRPC status: <c>UNAVAILABLE</c> for overload (the one grpc-dotnet retries).</param>
/// <param name="Reason">The kebab-case <c>x-mesh-reject-reason</c>, one of <see cref="MeshRejectReasons"/>.</param>
/// <param name="Message">A message a person can act on.</param>
/// <param name="RetryAfter">How long the caller should wait before it retries (<c>grpc-retry-pushback-ms</c>, <c>retry-after</c>); null sends no pushback.</param>
/// <remarks>
/// Plain HTTP callers get <see cref="HttpStatusCode"/> with <c>Retry-After</c> instead of a gRPC status.
/// <see cref="DoNotRetry"/> sends <c>grpc-retry-pushback-ms: -1</c> (gRFC A6: do not retry) instead of a pushback.
/// </remarks>
public sealed record MeshRejection(StatusCode Status, string Reason, string Message, TimeSpan? RetryAfter = null)
{
    /// <summary>
    /// The <c>grpc-retry-pushback-ms</c> value that tells a retrying client not to retry this call (gRFC A6: any
    /// negative value). Leaving the pushback out is not the same: a client whose retry policy lists the status
    /// then retries after its own backoff.
    /// </summary>
    public const string DoNotRetryPushback = "-1";

    /// <summary>Whether the caller is told not to retry (<c>grpc-retry-pushback-ms: -1</c>); ignored when <see cref="RetryAfter"/> is set.</summary>
    /// <value>The default value is false.</value>
    public bool DoNotRetry { get; init; }

    /// <summary>The HTTP status for plain HTTP callers; null derives it from <see cref="Status"/>.</summary>
    /// <value>The default value is null.</value>
    public int? HttpStatusOverride { get; init; }

    /// <summary>
    /// Whether the answer is the plain HTTP <see cref="HttpStatusCode"/> even to a request with a gRPC content type: the
    /// request is not a gRPC call the mesh takes (a PUT is 404 whatever its content type, as the services answer it).
    /// </summary>
    /// <value>The default value is false.</value>
    public bool PlainHttp { get; init; }

    /// <summary>The HTTP status for plain HTTP callers: 503 overload, 429 quota, 504 deadline, 499 cancelled, 400 bad argument, …</summary>
    public int HttpStatusCode => HttpStatusOverride ?? Status switch
    {
        StatusCode.DeadlineExceeded => StatusCodes.Status504GatewayTimeout,
        StatusCode.Cancelled => StatusCodes.Status499ClientClosedRequest,
        StatusCode.ResourceExhausted => StatusCodes.Status429TooManyRequests,
        StatusCode.InvalidArgument => StatusCodes.Status400BadRequest,
        StatusCode.Unauthenticated => StatusCodes.Status401Unauthorized,
        StatusCode.Unimplemented => StatusCodes.Status404NotFound,
        _ => StatusCodes.Status503ServiceUnavailable,
    };

    /// <summary>The metadata: <c>x-mesh-reject-reason</c>, and the pushback (or do-not-retry) when there is one.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Metadata => RetryAfter is { } wait
        ? [new(MeshMetadata.RejectReason, Reason), .. PushbackMetadata(wait)]
        : DoNotRetry
            ? [new(MeshMetadata.RejectReason, Reason), new(MeshMetadata.RetryPushbackMs, DoNotRetryPushback)]
            : [new(MeshMetadata.RejectReason, Reason)];

    /// <summary>
    /// The two pushback entries for a rejection that the caller may retry after <paramref name="retryAfter"/>:
    /// <c>grpc-retry-pushback-ms</c> (gRFC A6) and HTTP <c>retry-after</c>, both rounded up so a client never
    /// comes back a moment too early.
    /// </summary>
    /// <param name="retryAfter">How long the caller should wait; negative is read as zero.</param>
    /// <returns><c>grpc-retry-pushback-ms</c> = <see cref="ToPushbackMilliseconds"/>, <c>retry-after</c> = <see cref="ToRetryAfterSeconds"/>.</returns>
    public static IReadOnlyList<KeyValuePair<string, string>> PushbackMetadata(TimeSpan retryAfter) =>
    [
        new(MeshMetadata.RetryPushbackMs, ToPushbackMilliseconds(retryAfter).ToString(CultureInfo.InvariantCulture)),
        new(MeshMetadata.RetryAfter, ToRetryAfterSeconds(retryAfter).ToString(CultureInfo.InvariantCulture)),
    ];

    /// <summary>The <c>grpc-retry-pushback-ms</c> value: whole milliseconds, rounded up, at least 1.</summary>
    /// <param name="retryAfter">How long the caller should wait.</param>
    /// <returns>Milliseconds, at least 1 (0 would tell a gRPC client to retry at once).</returns>
    public static long ToPushbackMilliseconds(TimeSpan retryAfter) => Math.Max(1, (long)Math.Ceiling(retryAfter.TotalMilliseconds));

    /// <summary>The HTTP <c>Retry-After</c> value: whole seconds (the header has no fractions), rounded up, at least 1.</summary>
    /// <param name="retryAfter">How long the caller should wait.</param>
    /// <returns>Seconds, at least 1.</returns>
    public static long ToRetryAfterSeconds(TimeSpan retryAfter) => Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));

    /// <summary>The exception a service throws before any response header is written (so it goes out Trailers-Only).</summary>
    /// <returns>The exception with status, message and trailers.</returns>
    public RpcException ToRpcException()
    {
        var trailers = new Metadata();
        foreach (var (key, value) in Metadata)
        {
            trailers.Add(key, value);
        }

        return new RpcException(new Status(Status, Message), trailers);
    }

    /// <summary>
    /// Writes the rejection from middleware. Before the response started: Trailers-Only for gRPC, the HTTP status with
    /// <c>Retry-After</c> otherwise. After it started (a proxied response cut short): the status in the trailers, when
    /// the response supports them.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <returns>A task that completes when the response is written.</returns>
    /// <exception cref="InvalidOperationException">The response started and cannot carry trailers.</exception>
    public Task WriteAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Response.HasStarted)
        {
            return GrpcTrailersOnlyResponse.WriteAsync(context, Status, Message, HttpStatusCode, Metadata, PlainHttp);
        }

        if (!context.Response.SupportsTrailers())
        {
            throw new InvalidOperationException("The response started without trailers: a rejection can no longer be written.");
        }

        context.Response.AppendTrailer("grpc-status", ((int)Status).ToString(CultureInfo.InvariantCulture));
        context.Response.AppendTrailer("grpc-message", GrpcTrailersOnlyResponse.PercentEncode(Message));
        foreach (var (key, value) in Metadata)
        {
            context.Response.AppendTrailer(key, value);
        }

        return context.Response.CompleteAsync();
    }
}
