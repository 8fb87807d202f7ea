using System.Collections.Concurrent;
using Grpc.AspNetCore.Server;
using Grpc.Core.Interceptors;
using MeshBulkheads.Concurrency.Grpc;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Render.Rendering;
using MeshBulkheads.Render.Workers;
using Microsoft.AspNetCore.Builder;

namespace MeshBulkheads.EndToEnd.Tests.Bulkheads;

/// <summary>
/// Server-side record of when work started relative to its caller's effective deadline. Filled by
/// <see cref="HandlerStartProbe"/> (a gRPC handler is about to run) and <see cref="RenderStartObserver"/>
/// (a render job is about to run on a worker). Test-only: added through a host's <c>configure</c> callback.
/// </summary>
public sealed class StartLedger
{
    /// <summary>
    /// How late past its deadline a start may be without counting as late, judged by the time the product's last check
    /// read (BulkheadInterceptor's <see cref="IHandlerStartObserver"/>, the render executor's <c>checkedAt</c>), not by a
    /// later read of this probe's clock: between the check and the work a thread can be descheduled for as long as the
    /// machine likes (a CI run on a VM with stolen cycles saw 48 ms between the check and this probe). Work is never
    /// started on a deadline its last check saw passed; a check a millisecond or more late would be a real defect.
    /// </summary>
    public static readonly TimeSpan CheckToStartAllowance = TimeSpan.FromMilliseconds(1);

    /// <summary>The <see cref="ServerCallContext.UserState"/> key of the time BulkheadInterceptor's last check read.</summary>
    internal const string CheckedAtKey = "meshbulkheads.test.checked_at";

    private readonly ConcurrentDictionary<RenderParameters, DateTimeOffset> _renderDeadlines = new();
    private int _handlerStarts;
    private int _jobStarts;

    public int HandlerStarts => Volatile.Read(ref _handlerStarts);

    public int JobStarts => Volatile.Read(ref _jobStarts);

    /// <summary>Starts observed at least <see cref="CheckToStartAllowance"/> after their deadline, with how late they were.</summary>
    public ConcurrentQueue<string> LateStarts { get; } = new();

    /// <summary>Render jobs that started with no known deadline (their parameters were never registered).</summary>
    public ConcurrentQueue<RenderParameters> UnknownJobs { get; } = new();

    /// <summary>Adds the probe as the innermost gRPC interceptor and the render observer, both feeding this ledger.</summary>
    public void AddTo(WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(this);
        builder.Services.AddSingleton<HandlerStartProbe>();
        builder.Services.AddSingleton<IHandlerStartObserver, HandlerStartCheck>();
        builder.Services.AddSingleton<IRenderJobObserver, RenderStartObserver>();
        // Configure callbacks run in registration order and the hosts call AddGrpc(o => o.AddMeshInterceptors()) in Add<Service>()
        // before `configure`: the probe is added last, so it runs after DeadlineInterceptor and BulkheadInterceptor,
        // right before the handler.
        builder.Services.Configure<GrpcServiceOptions>(o => o.Interceptors.Add<HandlerStartProbe>());
    }

    // checkedAt: the time the product's last check read; null when no check ran (always a defect).
    internal void HandlerStarting(string method, DateTimeOffset deadline, DateTimeOffset? checkedAt, object request)
    {
        Interlocked.Increment(ref _handlerStarts);
        if (request is RenderRequest render)
        {
            // Render work starts later, on a worker: remember the deadline of these (unique) parameters.
            _renderDeadlines[new RenderParameters(render.Width, render.Height, render.Iterations)] = deadline;
        }

        if (checkedAt is not { } now)
        {
            LateStarts.Enqueue($"{method}: handler started without a deadline check");
        }
        else if (now >= deadline + CheckToStartAllowance)
        {
            LateStarts.Enqueue($"{method}: handler started on a check {(now - deadline).TotalMilliseconds:0.###} ms after its deadline");
        }
    }

    internal void JobStarting(RenderParameters parameters, DateTimeOffset now)
    {
        Interlocked.Increment(ref _jobStarts);
        if (!_renderDeadlines.TryGetValue(parameters, out var deadline))
        {
            UnknownJobs.Enqueue(parameters);
            return;
        }

        if (now >= deadline + CheckToStartAllowance)
        {
            LateStarts.Enqueue($"render {parameters}: job started {(now - deadline).TotalMilliseconds:0.###} ms after its deadline");
        }
    }
}

/// <summary>Keeps the time of BulkheadInterceptor's last deadline check on the call, for <see cref="HandlerStartProbe"/>.</summary>
public sealed class HandlerStartCheck : IHandlerStartObserver
{
    public void OnHandlerStarting(ServerCallContext context, DateTimeOffset? deadline, DateTimeOffset checkedAt) =>
        context.UserState[StartLedger.CheckedAtKey] = checkedAt;
}

/// <summary>
/// The innermost server interceptor: records, as the handler is about to start, whether the call's effective deadline
/// (<see cref="IDeadlineFeature"/>, set by the library's DeadlineInterceptor) had passed when the product last checked it.
/// </summary>
public sealed class HandlerStartProbe(StartLedger ledger) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var feature = context.GetHttpContext().Features.Get<IDeadlineFeature>();
        // Health and reflection have no deadline feature: nothing to check.
        if (feature is not null)
        {
            var checkedAt = context.UserState.TryGetValue(StartLedger.CheckedAtKey, out var at) ? (DateTimeOffset?)at : null;
            ledger.HandlerStarting(context.Method, feature.Deadline, checkedAt, request);
        }

        return continuation(request, context);
    }
}

/// <summary>Records each render job's start on its worker against the deadline the probe saw for its parameters.</summary>
public sealed class RenderStartObserver(StartLedger ledger, TimeProvider timeProvider) : IRenderJobObserver
{
    public void OnJobQueued(RenderParameters parameters)
    {
    }

    public void OnJobStarting(RenderParameters parameters) => ledger.JobStarting(parameters, timeProvider.GetUtcNow());

    // The executor's own last deadline check: a start is late only if that check was (a CI run saw "0 ms after" when the
    // probe read its clock a moment after a check that had passed).
    public void OnJobStarting(RenderParameters parameters, DateTimeOffset checkedAt) => ledger.JobStarting(parameters, checkedAt);
}
