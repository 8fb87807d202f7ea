using System.Collections.Concurrent;
using Grpc.AspNetCore.Server;
using Grpc.Core.Interceptors;
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
    /// How late past its deadline a start may be observed here without counting as late: the product's last check
    /// (BulkheadInterceptor, the render worker) reads the clock, then this probe reads it again one interceptor hop
    /// later, and on 2 busy cores that hop was seen to take 0.04 ms. Work is never started on a deadline the last
    /// check saw passed; a start a millisecond or more late would be a real defect.
    /// </summary>
    public static readonly TimeSpan CheckToStartAllowance = TimeSpan.FromMilliseconds(1);

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
        builder.Services.AddSingleton<IRenderJobObserver, RenderStartObserver>();
        // Configure callbacks run in registration order and the hosts call AddGrpc(o => o.AddMeshInterceptors()) in Add<Service>()
        // before `configure`: the probe is added last, so it runs after DeadlineInterceptor and BulkheadInterceptor,
        // right before the handler.
        builder.Services.Configure<GrpcServiceOptions>(o => o.Interceptors.Add<HandlerStartProbe>());
    }

    internal void HandlerStarting(string method, DateTimeOffset deadline, DateTimeOffset now, object request)
    {
        Interlocked.Increment(ref _handlerStarts);
        if (request is RenderRequest render)
        {
            // Render work starts later, on a worker: remember the deadline of these (unique) parameters.
            _renderDeadlines[new RenderParameters(render.Width, render.Height, render.Iterations)] = deadline;
        }

        if (now >= deadline + CheckToStartAllowance)
        {
            LateStarts.Enqueue($"{method}: handler started {(now - deadline).TotalMilliseconds:0.###} ms after its deadline");
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

/// <summary>
/// The innermost server interceptor: records, as the handler is about to start, whether the call's
/// effective deadline (<see cref="IDeadlineFeature"/>, set by the library's DeadlineInterceptor) has passed.
/// </summary>
public sealed class HandlerStartProbe(StartLedger ledger, TimeProvider timeProvider) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var feature = context.GetHttpContext().Features.Get<IDeadlineFeature>();
        // Health and reflection have no deadline feature: nothing to check.
        if (feature is not null)
        {
            ledger.HandlerStarting(context.Method, feature.Deadline, timeProvider.GetUtcNow(), request);
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
