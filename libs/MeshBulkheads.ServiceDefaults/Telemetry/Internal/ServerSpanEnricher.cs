using System.Diagnostics;
using System.Globalization;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Rejections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace MeshBulkheads.ServiceDefaults.Telemetry.Internal;

/// <summary>
/// Puts the <see cref="MeshActivity"/> attributes on the ASP.NET Core server span: hooked into
/// OpenTelemetry's ASP.NET Core instrumentation (<c>EnrichWithHttpRequest</c>/<c>EnrichWithHttpResponse</c>),
/// so it runs for every traced request of every process and only when the span is recorded.
/// </summary>
internal static class ServerSpanEnricher
{
    private const string GrpcStatusHeader = "grpc-status";
    private const string GrpcMessageHeader = "grpc-message";

    // The 17 gRPC status codes, boxed once: a tag value is an object, and every call sets one.
    private static readonly object[] BoxedStatusCodes = [.. Enumerable.Range(0, 17).Select(static code => (object)code)];

    /// <summary>On entry: the deadline budget, before any queue spends it.</summary>
    public static void OnRequest(Activity activity, HttpRequest request)
    {
        var raw = request.Headers[MeshMetadata.GrpcTimeout];
        if (StringValues.IsNullOrEmpty(raw))
        {
            return;
        }

        switch (GrpcTimeoutParser.Parse(raw[0], out var timeout))
        {
            case GrpcTimeoutParseResult.Valid:
                activity.SetTag(MeshActivity.DeadlineBudgetTag, (long)timeout.TotalMilliseconds);
                break;
            case GrpcTimeoutParseResult.NonPositive:
                activity.SetTag(MeshActivity.DeadlineBudgetTag, 0L);
                break;
            default:
                // Malformed: the deadline interceptor answers INVALID_ARGUMENT; no budget to show.
                break;
        }
    }

    /// <summary>At the end: who, which route, how it ended, and why it was shed.</summary>
    public static void OnResponse(Activity activity, HttpResponse response)
    {
        var context = response.HttpContext;
        var requestHeaders = context.Request.Headers;

        var tenant = context.Items.TryGetValue(MeshActivity.TenantItemKey, out var item) && item is string fromItem
            ? fromItem
            : FirstOrNull(requestHeaders[MeshMetadata.TenantId]);
        SetIfPresent(activity, MeshActivity.TenantTag, tenant);
        SetIfPresent(activity, MeshActivity.CriticalityTag, FirstOrNull(requestHeaders[MeshMetadata.Criticality]));
        var endpoint = context.GetEndpoint();
        SetIfPresent(activity, MeshActivity.RouteTag, Route(endpoint));
        // rpc.service/rpc.method from the method routing resolved, never from the path as spelled.
        if (endpoint?.Metadata.GetMetadata<GrpcMethodMetadata>() is { } grpc)
        {
            activity.SetTag("rpc.system", "grpc");
            activity.SetTag("rpc.service", grpc.Method.ServiceName);
            activity.SetTag("rpc.method", grpc.Method.Name);
        }

        // A Trailers-Only response (a rejection before any message) carries the status in the
        // headers; a normal gRPC response in the trailers. The gateway relays the backend's.
        var trailers = context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers;
        var status = ReadResponseValue(response.Headers, trailers, GrpcStatusHeader);
        if (status is not null && int.TryParse(status, NumberStyles.None, CultureInfo.InvariantCulture, out var code))
        {
            activity.SetTag(MeshActivity.GrpcStatusCodeTag, code is >= 0 and < 17 ? BoxedStatusCodes[code] : code);
            if (IsServerError((StatusCode)code))
            {
                activity.SetStatus(ActivityStatusCode.Error, Uri.UnescapeDataString(ReadResponseValue(response.Headers, trailers, GrpcMessageHeader) ?? string.Empty));
            }
        }

        var reason = ReadResponseValue(response.Headers, trailers, MeshMetadata.RejectReason);
        if (reason is not null)
        {
            activity.SetTag(MeshActivity.RejectReasonTag, reason);
            activity.SetStatus(ActivityStatusCode.Error, reason);
            // Idempotent: in a process hosting several apps (tests) each tracer provider enriches every span.
            if (!activity.Events.Any(e => e.Name == MeshActivity.RejectedEvent))
            {
                activity.AddEvent(new ActivityEvent(MeshActivity.RejectedEvent, tags: new ActivityTagsCollection
                {
                    [MeshActivity.RejectReasonTag] = reason,
                }));
            }
        }
    }

    /// <summary>The gRPC service's short name, else the endpoint's display name (YARP names its endpoints after the route id).</summary>
    internal static string? Route(Endpoint? endpoint)
    {
        if (endpoint is null)
        {
            return null;
        }

        if (endpoint.Metadata.GetMetadata<GrpcMethodMetadata>() is { } grpc)
        {
            var service = grpc.Method.ServiceName;
            var dot = service.LastIndexOf('.');
            return dot >= 0 ? service[(dot + 1)..] : service;
        }

        return endpoint.DisplayName;
    }

    /// <summary>
    /// The statuses OpenTelemetry's RPC conventions count as a server error; the others
    /// (NOT_FOUND, INVALID_ARGUMENT, ...) are the caller's problem and leave the span Unset.
    /// </summary>
    private static bool IsServerError(StatusCode code) => code is
        StatusCode.Unknown or StatusCode.DeadlineExceeded or StatusCode.Unimplemented
        or StatusCode.Internal or StatusCode.Unavailable or StatusCode.DataLoss;

    private static string? ReadResponseValue(IHeaderDictionary headers, IHeaderDictionary? trailers, string name) =>
        FirstOrNull(headers[name]) ?? (trailers is null ? null : FirstOrNull(trailers[name]));

    private static string? FirstOrNull(StringValues values) => StringValues.IsNullOrEmpty(values) ? null : values[0];

    private static void SetIfPresent(Activity activity, string tag, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            activity.SetTag(tag, value);
        }
    }
}
