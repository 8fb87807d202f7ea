using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Gateway.Telemetry;
using Microsoft.AspNetCore.Http.Features;

namespace MeshBulkheads.Gateway.Forwarding;

/// <summary>
/// Reads the 5-byte gRPC frame header of the request (without consuming it) before anything is
/// forwarded and answers Trailers-Only <c>RESOURCE_EXHAUSTED</c> with reason <c>message-too-large</c>,
/// naming the limit, when the message would not fit in the route's <c>MaxRequestBodySize</c> (minus the
/// 5-byte header). Without this, an oversized message reaches the backend's receive limit or Kestrel's
/// body limit mid-stream and the caller sees an HTTP/2 reset, not a gRPC status. The body limit stays
/// the backstop (for further messages on a stream, or a lying length prefix).
/// </summary>
public sealed class MessageSizeMiddleware(RequestDelegate next, GatewayMetrics metrics)
{
    /// <summary>The gRPC length-prefixed frame header: one compressed-flag byte and a 4-byte big-endian length.</summary>
    public const int FrameHeaderLength = 5;

    public Task InvokeAsync(HttpContext context)
    {
        // YARP applies the route's MaxRequestBodySize only after this pipeline, and reading the body makes the
        // feature read-only: apply it here first (YARP's meaning: null = server default, -1 = no limit).
        var call = GatewayCall.Of(context);
        var bodySize = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (call.Route?.Config.MaxRequestBodySize is { } routeLimit && bodySize is { IsReadOnly: false })
        {
            bodySize.MaxRequestBodySize = routeLimit < 0 ? null : routeLimit;
        }

        var bodyLimit = bodySize?.MaxRequestBodySize;
        if (bodyLimit is not { } limit || !GrpcTrailersOnlyResponse.IsGrpcRequest(context.Request))
        {
            return next(context);
        }

        if (context.Request.ContentLength is { } contentLength && contentLength > limit)
        {
            return RejectAsync(context, call.RouteId, contentLength, limit);
        }

        ValueTask<ReadResult> pending;
        try
        {
            // RequestAborted is the deadline-linked token here (DeadlineMiddleware): a caller that never sends stops at its deadline.
            pending = context.Request.BodyReader.ReadAtLeastAsync(FrameHeaderLength, context.RequestAborted);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return RejectAsync(context, call.RouteId, null, limit);
        }

        // The frame header usually arrived with the request headers: decided without a state machine.
        return pending.IsCompletedSuccessfully ? Check(context, call.RouteId, pending.Result, limit) : CheckAsync(context, call.RouteId, pending, limit);
    }

    private async Task CheckAsync(HttpContext context, string route, ValueTask<ReadResult> pending, long limit)
    {
        ReadResult result;
        try
        {
            result = await pending;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await RejectAsync(context, route, null, limit);
            return;
        }

        await Check(context, route, result, limit);
    }

    private Task Check(HttpContext context, string route, ReadResult result, long limit)
    {
        var length = ReadLength(result.Buffer);
        // Nothing consumed or examined: the forwarder reads the same bytes again.
        context.Request.BodyReader.AdvanceTo(result.Buffer.Start);
        if (length is not { } messageLength || messageLength + FrameHeaderLength <= limit)
        {
            // Within the limit, or too short to hold a frame header (the backend answers the malformed call).
            return next(context);
        }

        return RejectAsync(context, route, messageLength + FrameHeaderLength, limit);
    }

    private Task RejectAsync(HttpContext context, string route, long? size, long limit)
    {
        var what = size is { } bytes ? $"request of {bytes} bytes" : "request";
        return GatewayRejections.WriteAsync(context, metrics, route, new MeshRejection(
            StatusCode.ResourceExhausted,
            MeshRejectReasons.MessageTooLarge,
            $"{what} exceeds route '{route}' limit of {limit} bytes (MaxRequestBodySize: one message of at most {limit - FrameHeaderLength} bytes plus the {FrameHeaderLength}-byte gRPC frame header); nothing was forwarded")
        {
            HttpStatusOverride = StatusCodes.Status413PayloadTooLarge,
        });
    }

    private static long? ReadLength(ReadOnlySequence<byte> buffer)
    {
        if (buffer.Length < FrameHeaderLength)
        {
            return null;
        }

        Span<byte> header = stackalloc byte[FrameHeaderLength];
        buffer.Slice(0, FrameHeaderLength).CopyTo(header);
        return BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
    }
}
