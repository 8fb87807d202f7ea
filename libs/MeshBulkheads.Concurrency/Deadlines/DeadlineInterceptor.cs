using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using MeshBulkheads.Concurrency.Deadlines.Internal;
using MeshBulkheads.Concurrency.Grpc;
using MeshBulkheads.Concurrency.Rejections;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Concurrency.Deadlines;

/// <summary>
/// Gives every gRPC call a finite deadline, decided by <see cref="DeadlineResolver"/> (the same one the gateway uses)
/// from the raw <c>grpc-timeout</c> header; a rejection goes out before the handler starts. Register it before
/// <see cref="BulkheadInterceptor"/>.
/// </summary>
/// <remarks>
/// grpc-dotnet ignores a zero or malformed <c>grpc-timeout</c>, and the call then runs with no deadline at all.
/// The handler sees the effective deadline in <c>ServerCallContext.Deadline</c>, its <c>CancellationToken</c>
/// fires at that deadline, and <see cref="IDeadlineFeature"/> is set in <c>HttpContext.Features</c>. The
/// <c>IServerCallContextFeature</c> is swapped for the call so <c>EnableCallContextPropagation</c> passes the
/// effective deadline downstream. Health and reflection are left alone. The policy is looked up by the method the
/// call was routed to (<see cref="GrpcMethodNames.Resolve(ServerCallContext)"/>), never by the raw request path. Built
/// by <c>AddBulkheads()</c>, it follows valid reloads of <c>Deadlines:*</c> (an invalid reload is logged, counted and
/// ignored).
/// </remarks>
public sealed class DeadlineInterceptor : Interceptor
{
    private const string HttpContextUserStateKey = "__HttpContext";

    private readonly DeadlineResolver _resolver;
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates an interceptor with a fixed policy (no reloads); <c>AddBulkheads()</c> registers one that follows reloads.</summary>
    /// <param name="options">The deadline policies.</param>
    /// <param name="timeProvider">The clock.</param>
    public DeadlineInterceptor(IOptions<DeadlinePolicyOptions> options, TimeProvider timeProvider)
    {
        _resolver = new DeadlineResolver(options, timeProvider);
        _timeProvider = timeProvider;
    }

    internal DeadlineInterceptor(DeadlineResolver resolver)
    {
        _resolver = resolver;
        _timeProvider = resolver.TimeProvider;
    }

    /// <inheritdoc/>
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation) =>
        RunAsync(context, c => continuation(request, c));

    /// <inheritdoc/>
    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        RunAsync(context, c => continuation(requestStream, c));

    /// <inheritdoc/>
    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        RunAsync(context, async c =>
        {
            await continuation(request, responseStream, c).ConfigureAwait(false);
            return true;
        });

    /// <inheritdoc/>
    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        RunAsync(context, async c =>
        {
            await continuation(requestStream, responseStream, c).ConfigureAwait(false);
            return true;
        });

    private async Task<T> RunAsync<T>(ServerCallContext context, Func<ServerCallContext, Task<T>> next)
    {
        // The method the call was routed to, not the path as the caller spelled it (routing ignores case).
        var method = GrpcMethodNames.Resolve(context);
        if (method is null || UngatedMethods.IsUngated(method))
        {
            return await next(context).ConfigureAwait(false);
        }

        var httpContext = context.GetHttpContext();
        var resolution = _resolver.Resolve(method, httpContext.Request.Headers[MeshMetadata.GrpcTimeout]);
        if (resolution.Rejection is { } rejection)
        {
            throw rejection.ToRpcException();
        }

        var (deadline, timeout, source) = (resolution.Deadline, resolution.Timeout, resolution.Source);
        using var deadlineCts = new CancellationTokenSource(timeout, _timeProvider);
        using var linkedCts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, deadlineCts.Token);
        var wrapped = new DeadlineServerCallContext(context, DeadlineGuard.ToGrpc(deadline), linkedCts.Token);

        // GetHttpContext() on a context that is not grpc-dotnet's own looks the HttpContext up in UserState.
        context.UserState[HttpContextUserStateKey] = httpContext;
        var previousCallContext = httpContext.Features.Get<IServerCallContextFeature>();
        httpContext.Features.Set<IDeadlineFeature>(new DeadlineFeature(deadline, timeout, source, linkedCts.Token));
        httpContext.Features.Set<IServerCallContextFeature>(new CallContextFeature(wrapped));
        try
        {
            return await next(wrapped).ConfigureAwait(false);
        }
        catch (Exception ex) when (deadlineCts.IsCancellationRequested
            && !context.CancellationToken.IsCancellationRequested
            && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
        {
            throw new MeshRejection(StatusCode.DeadlineExceeded, MeshRejectReasons.DeadlineExceeded, $"Deadline of {timeout.TotalMilliseconds:0} ms ({source}) exceeded.").ToRpcException();
        }
        finally
        {
            httpContext.Features.Set(previousCallContext);
        }
    }

    private sealed class CallContextFeature(ServerCallContext context) : IServerCallContextFeature
    {
        public ServerCallContext ServerCallContext { get; } = context;
    }
}
