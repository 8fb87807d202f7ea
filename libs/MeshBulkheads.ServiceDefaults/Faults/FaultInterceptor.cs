using Grpc.Core;
using Grpc.Core.Interceptors;
using MeshBulkheads.Concurrency.Grpc;

namespace MeshBulkheads.ServiceDefaults.Faults;

/// <summary>
/// The <c>server</c> injection point: innermost, so an injected latency or CPU burn holds the call's permit exactly
/// as a slow handler would (the bulkhead fills, its queue ages, the autoscaler sees it), and an injected error is
/// answered with the call's own status handling. Health and reflection are never faulted.
/// </summary>
public sealed class FaultInterceptor(FaultPipelines pipelines) : Interceptor
{
    /// <inheritdoc />
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        await InjectAsync(context).ConfigureAwait(false);
        return await continuation(request, context).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await InjectAsync(context).ConfigureAwait(false);
        return await continuation(requestStream, context).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await InjectAsync(context).ConfigureAwait(false);
        await continuation(request, responseStream, context).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await InjectAsync(context).ConfigureAwait(false);
        await continuation(requestStream, responseStream, context).ConfigureAwait(false);
    }

    private ValueTask InjectAsync(ServerCallContext context)
    {
        var method = GrpcMethodNames.Resolve(context);
        return method is null || UngatedMethods.IsUngated(method)
            ? ValueTask.CompletedTask
            : pipelines.InjectAsync(FaultTargets.Server, method, context.CancellationToken);
    }
}
