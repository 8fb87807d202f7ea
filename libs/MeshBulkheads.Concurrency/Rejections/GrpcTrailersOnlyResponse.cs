using System.Globalization;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace MeshBulkheads.Concurrency.Rejections;

/// <summary>
/// Writes a gRPC error as a Trailers-Only response from middleware: HTTP 200,
/// <c>content-type: application/grpc</c>, and the status in the response headers with no body.
/// </summary>
/// <remarks>
/// grpc-dotnet honours <c>grpc-retry-pushback-ms</c> only when status and pushback arrive in this
/// single headers-only response; the same status sent as headers plus separate trailers is
/// reported correctly but never retried. Plain HTTP callers (no <c>application/grpc</c> request)
/// get the given HTTP status with <c>Retry-After</c> instead.
/// </remarks>
public static class GrpcTrailersOnlyResponse
{
    /// <summary>True when the request is a gRPC call (content type <c>application/grpc*</c>).</summary>
    public static bool IsGrpcRequest(HttpRequest request) =>
        request.ContentType is { } contentType && contentType.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase);

    /// <summary>Writes the error; the response must not have started.</summary>
    /// <param name="context">The current request.</param>
    /// <param name="status">The gRPC status code.</param>
    /// <param name="message">A message a person can act on.</param>
    /// <param name="httpStatusCode">The status code for non-gRPC callers.</param>
    /// <param name="metadata">Extra headers (reject reason, pushback, ...).</param>
    /// <param name="plainHttp">Answer with <paramref name="httpStatusCode"/> even when the request has a gRPC content type.</param>
    /// <returns>A task that completes when the response is written.</returns>
    public static Task WriteAsync(
        HttpContext context,
        StatusCode status,
        string message,
        int httpStatusCode,
        IEnumerable<KeyValuePair<string, string>>? metadata = null,
        bool plainHttp = false)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.Response;
        if (response.HasStarted)
        {
            throw new InvalidOperationException("A Trailers-Only gRPC response can only be written before the response starts.");
        }

        response.Headers.Clear();
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
            {
                response.Headers[key] = value;
            }
        }

        if (!plainHttp && IsGrpcRequest(context.Request))
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/grpc";
            response.Headers["grpc-status"] = ((int)status).ToString(CultureInfo.InvariantCulture);
            response.Headers["grpc-message"] = PercentEncode(message);
            return response.CompleteAsync();
        }

        response.StatusCode = httpStatusCode;
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync(message + "\n");
    }

    /// <summary>Percent-encodes a grpc-message as the gRPC HTTP/2 protocol requires.</summary>
    public static string PercentEncode(string value)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(value);
        var builder = new System.Text.StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            // Unreserved: printable ASCII except '%'.
            if (b is >= 0x20 and <= 0x7E && b != (byte)'%')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }
}
