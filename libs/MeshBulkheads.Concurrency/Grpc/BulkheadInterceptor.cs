using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Concurrency.Telemetry;
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
/// missing → the method's <c>Criticality:Methods:&lt;prefix&gt;</c>, else <c>Criticality:Default</c>: <see cref="CriticalityOptions"/>). The queue wait is recorded on
/// <see cref="Activity.Current"/> by <see cref="BulkheadActivity.Record"/>. Health and reflection are never gated.
/// The route is looked up by the method the call was routed to (<see cref="GrpcMethodNames.Resolve(ServerCallContext)"/>),
/// never by the raw request path, and cached per resolved method (bounded by the service's methods). An unknown
/// <c>x-mesh-criticality</c> value is refused with <c>INVALID_ARGUMENT</c> before admission. A handler that
/// completes is a latency sample; one that throws releases its permit with <see cref="BulkheadLease.Abandon"/>. A
/// streaming call (client, server or duplex) holds one permit for the stream's life, asked for with
/// <see cref="BulkheadRequest.LongLived"/>, so however long its peer keeps it open it never inflates the service-time
/// estimate behind the pushback.
/// As the last step before the handler it records every handler start on
/// <c>meshbulkheads.rpc.server.handler_starts</c>, tagged <c>meshbulkheads.deadline.state</c> = <c>met</c> or
/// <c>passed</c> by the clock at that instant (and <c>meshbulkheads.bulkhead</c> when a bulkhead gates the method): the server's own check of "no work starts for a caller that has given
/// up" (<c>make bench ONLY=deadlines</c> reports it). Just before, every call whose deadline has passed by then is
/// refused with <c>DEADLINE_EXCEEDED</c> (the permit, if any, abandoned): a method that acquires its permits itself
/// has no other check after the deadline interceptor, and a granted waiter can resume late on a busy pool. What is
/// left for <c>passed</c> is the instant between that check and the handler's first line.
/// </remarks>
/// <param name="provider">The bulkheads.</param>
/// <param name="routing">Which bulkhead gates which method (<c>Bulkheads:Routes</c>).</param>
/// <param name="criticality">The criticality of a call without the header (<c>Criticality:*</c>).</param>
/// <param name="timeProvider">The clock the handler-start check reads (the one the bulkheads and deadlines use).</param>
/// <param name="meterFactory">Creates the handler-start counter (meter <c>MeshBulkheads.Concurrency</c>).</param>
/// <param name="startObserver">Told the time of the last deadline check before each handler (<see cref="IHandlerStartObserver"/>; nothing by default).</param>
public sealed class BulkheadInterceptor(
    IBulkheadProvider provider,
    IOptions<BulkheadRoutingOptions> routing,
    IOptions<CriticalityOptions> criticality,
    TimeProvider timeProvider,
    IMeterFactory meterFactory,
    IHandlerStartObserver startObserver) : Interceptor
{
    /// <summary>The value of <see cref="MeshTelemetryTags.DeadlineState"/> for a handler that started before its deadline.</summary>
    public const string DeadlineMet = "met";

    /// <summary>The value of <see cref="MeshTelemetryTags.DeadlineState"/> for a handler that started at or after its deadline.</summary>
    public const string DeadlinePassed = "passed";

    private readonly ConcurrentDictionary<string, Bulkhead?> _byMethod = new(StringComparer.Ordinal);

    private readonly Counter<long> _handlerStarts = meterFactory.Create(BulkheadConstants.MeterName).CreateRequestCounter(
        "meshbulkheads.rpc.server.handler_starts",
        "Handlers started, by whether the caller's effective deadline had passed at that instant (passed must stay 0).");

    /// <summary>How many methods have a cached route (at most the number of methods the service defines).</summary>
    internal int CachedMethodCount => _byMethod.Count;

    /// <inheritdoc/>
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation) =>
        RunAsync(context, longLived: false, () => continuation(request, context));

    /// <inheritdoc/>
    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        RunAsync(context, longLived: true, () => continuation(requestStream, context));

    /// <inheritdoc/>
    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        RunAsync(context, longLived: true, async () =>
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
            return true;
        });

    /// <inheritdoc/>
    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        RunAsync(context, longLived: true, async () =>
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
            return true;
        });

    /// <summary>Reads the caller's criticality header; missing → critical.</summary>
    /// <param name="headers">The request headers.</param>
    /// <returns>The criticality.</returns>
    /// <exception cref="RpcException"><c>INVALID_ARGUMENT</c> (<c>invalid-criticality</c>): a value other than <c>critical</c> or <c>sheddable</c>.</exception>
    public static BulkheadCriticality ReadCriticality(Metadata headers) => ReadCriticality(headers, BulkheadCriticality.Critical);

    /// <summary>
    /// Reads the caller's criticality header with <see cref="CriticalityHeader.Read"/> (the parser the gateway uses too):
    /// missing or empty → <paramref name="whenMissing"/> (<see cref="CriticalityOptions.Resolve"/>).
    /// </summary>
    /// <param name="headers">The request headers.</param>
    /// <param name="whenMissing">The criticality of a request without the header.</param>
    /// <returns>The criticality.</returns>
    /// <exception cref="RpcException"><c>INVALID_ARGUMENT</c> with <c>x-mesh-reject-reason: invalid-criticality</c> for any other value.</exception>
    public static BulkheadCriticality ReadCriticality(Metadata headers, BulkheadCriticality whenMissing)
    {
        ArgumentNullException.ThrowIfNull(headers);
        return CriticalityHeader.Read(headers.GetValue(MeshMetadata.Criticality), whenMissing, out var criticality) is { } rejection
            ? throw rejection.ToRpcException()
            : criticality;
    }

    /// <summary>
    /// What a call asks a bulkhead for, read the way the interceptor reads it: the effective deadline
    /// (<see cref="IDeadlineFeature"/>, else <c>ServerCallContext.Deadline</c>), <c>x-tenant-id</c> and
    /// <c>x-mesh-criticality</c>. For code that acquires a permit itself (see <c>IBulkheadsBuilder.DeclareMethods</c>).
    /// </summary>
    /// <param name="context">The call.</param>
    /// <param name="whenMissing">The criticality of a call without the header (<see cref="CriticalityOptions.Resolve"/>).</param>
    /// <returns>The request.</returns>
    /// <exception cref="RpcException"><c>INVALID_ARGUMENT</c>: an unknown <c>x-mesh-criticality</c> (see <see cref="ReadCriticality(Metadata, BulkheadCriticality)"/>).</exception>
    public static BulkheadRequest ReadRequest(ServerCallContext context, BulkheadCriticality whenMissing)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new BulkheadRequest(DeadlineGuard.Of(context), context.RequestHeaders.GetValue(MeshMetadata.TenantId), ReadCriticality(context.RequestHeaders, whenMissing));
    }

    /// <summary>
    /// What a call asks a bulkhead for, with a missing <c>x-mesh-criticality</c> read from <paramref name="criticality"/>
    /// for the method the call was routed to.
    /// </summary>
    /// <param name="context">The call.</param>
    /// <param name="criticality">The process's criticality table (<c>Criticality:*</c>).</param>
    /// <returns>The request.</returns>
    /// <exception cref="RpcException"><c>INVALID_ARGUMENT</c>: an unknown <c>x-mesh-criticality</c>.</exception>
    public static BulkheadRequest ReadRequest(ServerCallContext context, CriticalityOptions criticality)
    {
        ArgumentNullException.ThrowIfNull(criticality);
        return ReadRequest(context, criticality.Resolve(GrpcMethodNames.Resolve(context)));
    }

    private async Task<T> RunAsync<T>(ServerCallContext context, bool longLived, Func<Task<T>> next)
    {
        // Keyed by the resolved method (one entry per method the service defines), never by the raw path.
        var method = GrpcMethodNames.Resolve(context);
        if (method is null || UngatedMethods.IsUngated(method))
        {
            return await next().ConfigureAwait(false);
        }

        var bulkhead = _byMethod.GetOrAdd(method, Resolve);
        if (bulkhead is null)
        {
            // No bulkhead re-checks the deadline for a method that admits itself (or is ungated by route), and a
            // 1 ms budget can pass between the deadline interceptor and here (the deadline bench saw it): refuse.
            var deadline = DeadlineGuard.Of(context);
            CheckBeforeStart(context, deadline);
            RecordHandlerStart(deadline, bulkhead: null);
            return await next().ConfigureAwait(false);
        }

        // A streaming call holds its permit for the stream's life, which its peer decides: never a service-time sample.
        var request = ReadRequest(context, criticality.Value.Resolve(method)) with { LongLived = longLived };

        // Only the caller leaving cancels the wait: the bulkhead enforces the deadline itself (result `deadline`, not
        // `canceled`), including once more when the granted waiter resumes, so no handler starts after its deadline.
        var lease = await bulkhead.AcquireAsync(request, context.GetHttpContext().RequestAborted).ConfigureAwait(false);
        BulkheadActivity.Record(Activity.Current, bulkhead.Name, lease);
        if (!lease.IsAcquired)
        {
            throw BulkheadRejectionMapper.ToRejection(lease, bulkhead.Name).ToRpcException();
        }

        T result;
        try
        {
            // The bulkhead checked the deadline when it granted the permit; a waiter resumes on a pool thread, and on a
            // busy machine that can be past the deadline (an end-to-end storm test saw a start 0.09 ms late): once more.
            CheckBeforeStart(context, request.Deadline);
            RecordHandlerStart(request.Deadline, bulkhead.Name);
            result = await next().ConfigureAwait(false);
        }
        catch
        {
            // A failed call (fast validation error, cancellation, exception) is no latency sample.
            lease.Abandon();
            throw;
        }

        lease.Dispose();
        return result;
    }

    private void CheckBeforeStart(ServerCallContext context, DateTimeOffset? deadline)
    {
        var now = timeProvider.GetUtcNow();
        if (DeadlineGuard.HasPassed(deadline, now))
        {
            throw DeadlineGuard.Exceeded("the deadline passed before the handler started; no work was done").ToRpcException();
        }

        startObserver.OnHandlerStarting(context, deadline, now);
    }

    // Reads the clock again on purpose: the measurement is of the instant the handler starts, after the check above.
    // Tagged by the gating bulkhead's name (bounded by configuration; none for a method no bulkhead gates).
    private void RecordHandlerStart(DateTimeOffset? deadline, string? bulkhead)
    {
        if (_handlerStarts.Enabled)
        {
            var state = DeadlineGuard.HasPassed(deadline, timeProvider) ? DeadlinePassed : DeadlineMet;
            var tags = new TagList { { MeshTelemetryTags.DeadlineState, state } };
            if (bulkhead is not null)
            {
                tags.Add(MeshTelemetryTags.Bulkhead, bulkhead);
            }

            _handlerStarts.Add(1, tags);
        }
    }

    private Bulkhead? Resolve(string method) =>
        routing.Value.Resolve(method) is { } name ? provider.Get(name) : null;
}
