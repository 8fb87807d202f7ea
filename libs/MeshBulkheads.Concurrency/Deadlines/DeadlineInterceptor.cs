using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using MeshBulkheads.Concurrency.Deadlines.Internal;
using MeshBulkheads.Concurrency.Grpc;
using MeshBulkheads.Concurrency.Rejections;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Concurrency.Deadlines;

/// <summary>
/// Gives every gRPC call a finite deadline from the raw <c>grpc-timeout</c> header: zero or negative →
/// <c>DEADLINE_EXCEEDED</c> (<c>x-mesh-reject-reason: deadline-exceeded</c>), malformed → <c>INVALID_ARGUMENT</c>
/// (<c>malformed-grpc-timeout</c>, the gateway's reasons too), absent → the method's default, above the
/// method's maximum → clamped. Register it before <see cref="BulkheadInterceptor"/>.
/// </summary>
/// <remarks>
/// grpc-dotnet ignores a zero or malformed <c>grpc-timeout</c>, and the call then runs with no deadline at all.
/// The handler sees the effective deadline in <c>ServerCallContext.Deadline</c>, its <c>CancellationToken</c>
/// fires at that deadline, and <see cref="IDeadlineFeature"/> is set in <c>HttpContext.Features</c>. The
/// <c>IServerCallContextFeature</c> is swapped for the call so <c>EnableCallContextPropagation</c> passes the
/// effective deadline downstream. Health and reflection are left alone.
/// </remarks>
public sealed class DeadlineInterceptor(IOptions<DeadlinePolicyOptions> options, TimeProvider timeProvider) : Interceptor
{
    private const string HttpContextUserStateKey = "__HttpContext";

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
        if (UngatedMethods.IsUngated(context.Method))
        {
            return await next(context).ConfigureAwait(false);
        }

        var httpContext = context.GetHttpContext();
        var headers = httpContext.Request.Headers[MeshMetadata.GrpcTimeout];
        var policy = options.Value.Resolve(context.Method);
        var raw = headers.Count > 1 ? "," : headers.Count == 1 ? headers[0] : null;
        TimeSpan timeout;
        DeadlineSource source;
        switch (GrpcTimeoutParser.Parse(raw, out var parsed))
        {
            case GrpcTimeoutParseResult.Malformed:
                throw BulkheadRejectionMapper.ToRpcException(
                    StatusCode.InvalidArgument,
                    MeshRejectReasons.MalformedGrpcTimeout,
                    $"grpc-timeout '{headers}' is malformed: expected 1 to 8 digits followed by one unit of H, M, S, m, u, n (for example 500m).",
                    retryAfter: null);
            case GrpcTimeoutParseResult.NonPositive:
                throw BulkheadRejectionMapper.ToRpcException(
                    StatusCode.DeadlineExceeded,
                    MeshRejectReasons.DeadlineExceeded,
                    $"grpc-timeout '{raw}' leaves no time: the deadline has already passed, so the call was not started.",
                    retryAfter: null);
            case GrpcTimeoutParseResult.Absent:
                timeout = policy.Default;
                source = DeadlineSource.Default;
                break;
            default:
                (timeout, source) = parsed > policy.Max ? (policy.Max, DeadlineSource.Clamped) : (parsed, DeadlineSource.Header);
                break;
        }

        var deadline = timeProvider.GetUtcNow() + timeout;
        using var deadlineCts = new CancellationTokenSource(timeout, timeProvider);
        using var linkedCts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, deadlineCts.Token);
        var wrapped = new DeadlineServerCallContext(context, deadline.UtcDateTime, linkedCts.Token);

        // GetHttpContext() on a context that is not grpc-dotnet's own looks the HttpContext up in UserState.
        context.UserState[HttpContextUserStateKey] = httpContext;
        var previousCallContext = httpContext.Features.Get<IServerCallContextFeature>();
        httpContext.Features.Set<IDeadlineFeature>(new DeadlineFeature(deadline, source, linkedCts.Token));
        httpContext.Features.Set<IServerCallContextFeature>(new CallContextFeature(wrapped));
        try
        {
            return await next(wrapped).ConfigureAwait(false);
        }
        catch (Exception ex) when (deadlineCts.IsCancellationRequested
            && !context.CancellationToken.IsCancellationRequested
            && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
        {
            throw BulkheadRejectionMapper.ToRpcException(
                StatusCode.DeadlineExceeded, MeshRejectReasons.DeadlineExceeded, $"Deadline of {timeout.TotalMilliseconds:0} ms ({source}) exceeded.", retryAfter: null);
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
