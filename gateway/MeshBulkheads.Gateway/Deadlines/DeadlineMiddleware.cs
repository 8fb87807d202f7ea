using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Gateway.Deadlines.Internal;
using MeshBulkheads.Gateway.Forwarding;
using MeshBulkheads.Gateway.Telemetry;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace MeshBulkheads.Gateway.Deadlines;

/// <summary>
/// Gives every proxied call a finite deadline when it arrives, decided by the library's
/// <see cref="DeadlineResolver"/> (the one the services use) for the resolved <see cref="GatewayMethod"/>:
/// the caller's <c>grpc-timeout</c>, the method's <c>Deadlines:Methods:&lt;prefix&gt;:Default</c> when absent,
/// clamped to its <c>Max</c>. Zero or negative → <c>DEADLINE_EXCEEDED</c>, malformed →
/// <c>INVALID_ARGUMENT</c>; neither reaches a backend. <see cref="DeadlineForwardingMiddleware"/>
/// later forwards what is left. The deadline is enforced: the rest of the pipeline sees
/// <c>RequestAborted</c> cancelled at the deadline, so the forwarder cancels the backend call and the
/// route permit is returned; the caller then gets Trailers-Only <c>DEADLINE_EXCEEDED</c>
/// (<c>deadline-exceeded</c>), or, when the backend's response had started, <c>grpc-status: 4</c> in
/// the trailers instead of a reset.
/// </summary>
public sealed class DeadlineMiddleware(RequestDelegate next, DeadlineResolver resolver, GatewayMetrics metrics, TimeProvider timeProvider, ILogger<DeadlineMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var call = GatewayCall.Of(context);
        var route = call.RouteId;
        // Keyed by the resolved method, as in the services: one table of deadlines for the whole mesh.
        var method = call.Method?.Path ?? context.Request.Path.Value ?? "/";
        var resolution = resolver.Resolve(method, context.Request.Headers[MeshMetadata.GrpcTimeout]);
        if (resolution.Rejection is { } rejection)
        {
            await GatewayRejections.WriteAsync(context, metrics, route, rejection);
            return;
        }

        var (timeout, source) = (resolution.Timeout, resolution.Source);

        // The rest of the pipeline, the forwarder included, sees RequestAborted cancelled at the deadline or
        // when the caller goes (one source, cancelled by its timer or by the caller's token: no linked source);
        // the caller's own token stays here to tell "deadline" (cancelled, caller still there) from "caller gone".
        var caller = context.RequestAborted;
        using var deadlineCts = new CancellationTokenSource(timeout, timeProvider);
        using var callerGone = caller.UnsafeRegister(static cts => ((CancellationTokenSource)cts!).Cancel(), deadlineCts);
        call.Deadline = new DeadlineFeature(resolution.Deadline, timeout, source, deadlineCts.Token);
        var resetFeature = context.Features.Get<IHttpResetFeature>();
        var heldReset = resetFeature is null ? null : new DeadlineResetFeature(resetFeature, deadlineCts.Token, caller);
        context.Features.Set<IHttpResetFeature>(heldReset);
        context.RequestAborted = deadlineCts.Token;
        var cancelledByDeadline = false;
        try
        {
            await next(context);
        }
        catch (OperationCanceledException) when (deadlineCts.IsCancellationRequested && !caller.IsCancellationRequested)
        {
            // E.g. still waiting for the request body (MessageSizeMiddleware) when the deadline fired.
            cancelledByDeadline = true;
        }
        finally
        {
            context.RequestAborted = caller;
            context.Features.Set(resetFeature);
        }

        // Only a call the deadline cut short (the forwarder failed, the caller is still there) is answered here.
        // (A response that completed before the deadline fired has started and carries no forwarder error.)
        var cutShort = cancelledByDeadline || (deadlineCts.IsCancellationRequested && !caller.IsCancellationRequested
            && (context.Features.Get<IForwarderErrorFeature>() is not null || !context.Response.HasStarted));
        if (!cutShort)
        {
            if (heldReset?.HeldBack is { } code)
            {
                resetFeature!.Reset(code);
            }

            return;
        }

        await DeadlineExpiredAsync(context, route, timeout, source, heldReset, resetFeature);
    }

    private async Task DeadlineExpiredAsync(HttpContext context, string route, TimeSpan timeout, DeadlineSource source, DeadlineResetFeature? heldReset, IHttpResetFeature? resetFeature)
    {
        var message = $"route '{route}': no answer within the deadline of {timeout.TotalMilliseconds:0} ms ({source}); the gateway cancelled the backend call";
        if (!context.Response.HasStarted)
        {
            GatewayLog.DeadlineExpired(logger, route, (long)timeout.TotalMilliseconds, false);
            await GatewayRejections.WriteAsync(context, metrics, route, DeadlineGuard.Exceeded(message));
            return;
        }

        if (!context.Response.SupportsTrailers())
        {
            // Nothing better than a reset can end a started response without trailers.
            if (heldReset?.HeldBack is { } code)
            {
                resetFeature!.Reset(code);
            }

            return;
        }

        // The response started (headers, maybe messages): end it with grpc-status 4 in the trailers, not a bare reset.
        GatewayLog.DeadlineExpired(logger, route, (long)timeout.TotalMilliseconds, true);
        await GatewayRejections.WriteAsync(context, metrics, route, DeadlineGuard.Exceeded(message));
    }
}
