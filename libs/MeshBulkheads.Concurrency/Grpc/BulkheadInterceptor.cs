using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Rejections;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Concurrency.Grpc;

/// <summary>
/// Admission for gRPC services: acquires a permit from the bulkhead the method is routed to
/// (<c>Bulkheads:Routes</c>) before the handler runs and before any response header is written, so a
/// rejection is a Trailers-Only response that grpc-dotnet retries after the pushback.
/// </summary>
/// <remarks>
/// Register with <c>AddGrpc(o =&gt; { o.Interceptors.Add&lt;DeadlineInterceptor&gt;(); o.Interceptors.Add&lt;BulkheadInterceptor&gt;(); })</c>.
/// The request carries the call's effective deadline (<see cref="IDeadlineFeature"/>, else
/// <c>ServerCallContext.Deadline</c>), tenant (<c>x-tenant-id</c>) and criticality (<c>x-mesh-criticality</c>,
/// missing → <see cref="BulkheadRoutingOptions.DefaultCriticality"/>). The queue wait is recorded on
/// <see cref="Activity.Current"/> by <see cref="BulkheadActivity.Record"/>. Health and reflection are never gated.
/// </remarks>
public sealed class BulkheadInterceptor(IBulkheadProvider provider, IOptions<BulkheadRoutingOptions> routing, TimeProvider timeProvider) : Interceptor
{
    private readonly ConcurrentDictionary<string, Bulkhead?> _byMethod = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation) =>
        RunAsync(context, () => continuation(request, context));

    /// <inheritdoc/>
    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        RunAsync(context, () => continuation(requestStream, context));

    /// <inheritdoc/>
    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        RunAsync(context, async () =>
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
            return true;
        });

    /// <inheritdoc/>
    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        RunAsync(context, async () =>
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
            return true;
        });

    /// <summary>Reads the caller's criticality header; anything but <c>sheddable</c> is critical.</summary>
    /// <param name="headers">The request headers.</param>
    /// <returns>The criticality.</returns>
    public static BulkheadCriticality ReadCriticality(Metadata headers) => ReadCriticality(headers, BulkheadCriticality.Critical);

    /// <summary>
    /// Reads the caller's criticality header: missing or empty → <paramref name="whenMissing"/>
    /// (<see cref="BulkheadRoutingOptions.DefaultCriticality"/>), <c>sheddable</c> → sheddable, anything else → critical.
    /// </summary>
    /// <param name="headers">The request headers.</param>
    /// <param name="whenMissing">The criticality of a request without the header.</param>
    /// <returns>The criticality.</returns>
    public static BulkheadCriticality ReadCriticality(Metadata headers, BulkheadCriticality whenMissing)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var value = headers.GetValue(MeshMetadata.Criticality);
        return string.IsNullOrEmpty(value) ? whenMissing
            : CriticalityHeader.TryParse(value, out var criticality) ? criticality
            : BulkheadCriticality.Critical;
    }

    /// <summary>
    /// What a call asks a bulkhead for, read the way the interceptor reads it: the effective deadline
    /// (<see cref="IDeadlineFeature"/>, else <c>ServerCallContext.Deadline</c>), <c>x-tenant-id</c> and
    /// <c>x-mesh-criticality</c>. For code that acquires a permit itself (see <c>IBulkheadsBuilder.DeclareMethods</c>).
    /// </summary>
    /// <param name="context">The call.</param>
    /// <param name="whenMissing">The criticality of a call without the header (<see cref="BulkheadRoutingOptions.DefaultCriticality"/>).</param>
    /// <returns>The request.</returns>
    public static BulkheadRequest ReadRequest(ServerCallContext context, BulkheadCriticality whenMissing)
    {
        ArgumentNullException.ThrowIfNull(context);
        DateTimeOffset? deadline = context.GetHttpContext().Features.Get<IDeadlineFeature>() is { } feature
            ? feature.Deadline
            : context.Deadline == DateTime.MaxValue ? null : new DateTimeOffset(DateTime.SpecifyKind(context.Deadline, DateTimeKind.Utc));
        return new BulkheadRequest(deadline, context.RequestHeaders.GetValue(MeshMetadata.TenantId), ReadCriticality(context.RequestHeaders, whenMissing));
    }

    private async Task<T> RunAsync<T>(ServerCallContext context, Func<Task<T>> next)
    {
        var bulkhead = UngatedMethods.IsUngated(context.Method) ? null : _byMethod.GetOrAdd(context.Method, Resolve);
        if (bulkhead is null)
        {
            return await next().ConfigureAwait(false);
        }

        var request = ReadRequest(context, routing.Value.DefaultCriticality);
        var deadline = request.Deadline;

        // Only the caller leaving cancels the wait: the bulkhead enforces the deadline itself (result `deadline`, not `canceled`).
        var lease = await bulkhead.AcquireAsync(request, context.GetHttpContext().RequestAborted).ConfigureAwait(false);
        BulkheadActivity.Record(Activity.Current, bulkhead.Name, lease);
        if (!lease.IsAcquired)
        {
            throw BulkheadRejectionMapper.ToRpcException(lease, bulkhead.Name);
        }

        using (lease)
        {
            // Re-check after the continuation was scheduled: never start work whose deadline has passed.
            if (deadline is { } d && timeProvider.GetUtcNow() >= d)
            {
                throw BulkheadRejectionMapper.ToRpcException(new BulkheadLease(BulkheadRejectionReason.DeadlineExceeded, lease.QueueTime, null), bulkhead.Name);
            }

            return await next().ConfigureAwait(false);
        }
    }

    private Bulkhead? Resolve(string method) =>
        routing.Value.Resolve(method) is { } name ? provider.Get(name) : null;
}
