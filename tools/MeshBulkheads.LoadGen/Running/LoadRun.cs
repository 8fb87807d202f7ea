using System.Net.Sockets;
using Grpc.Core;
using MeshBulkheads.LoadGen.Streams;

namespace MeshBulkheads.LoadGen.Running;

/// <summary>Per-second view of a run in progress (live progress, report timelines).</summary>
internal interface IRunObserver
{
    void OnInterval(TimeSpan elapsed, IReadOnlyList<(StreamStats Stats, IntervalSample Sample)> samples);
}

/// <summary>
/// One run: every stream's schedule (or closed-loop workers) against the gateway, a one-second
/// ticker for progress, then a drain that waits for calls still in flight (bounded by their deadlines).
/// </summary>
internal sealed class LoadRun
{
    private readonly RunPlan _plan;
    private readonly TimeProvider _time;
    private readonly Func<Uri, int, ChannelPool> _channels;
    private readonly List<Task> _inFlight = [];
    private readonly Lock _inFlightLock = new();
    private readonly CallLog? _callLog;
    private readonly string _runId = Guid.NewGuid().ToString("N")[..12];
    private volatile string? _badInput;
    private long _runStart;
    private DateTimeOffset _runStartUtc;

    public LoadRun(RunPlan plan, TimeProvider time, Func<Uri, int, ChannelPool>? channels = null, CallLog? callLog = null)
    {
        _plan = plan;
        _time = time;
        _channels = channels ?? ((target, connections) => new ChannelPool(target, connections, roots: GatewayTls.LoadRoots(target, plan.CaFile)));
        _callLog = callLog;
        Streams = plan.Streams.Select(s => new StreamStats(s)).ToArray();
    }

    public IReadOnlyList<StreamStats> Streams { get; }

    /// <summary>Fails with <see cref="BadInputException"/> when nothing listens at the gateway's address.</summary>
    public static async Task CheckReachableAsync(Uri target, CancellationToken cancellationToken)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        try
        {
            await socket.ConnectAsync(target.Host, target.Port, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            throw new BadInputException($"gateway unreachable at {target} ({(ex is SocketException s ? s.SocketErrorCode.ToString() : "connect timed out after 3s")}); is it running? (make run, or --target)");
        }
    }

    public async Task<RunResult> RunAsync(IRunObserver? observer, CancellationToken cancellationToken)
    {
        using var pool = _channels(_plan.Target, _plan.Connections);
        using var waits = new ConnectionWaitCounter(_plan.Target);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var start = _time.GetTimestamp();
        _runStart = start;
        _runStartUtc = _time.GetUtcNow();
        var runners = new List<Task>();
        foreach (var stats in Streams)
        {
            runners.Add(stats.Spec.IsClosedLoop
                ? RunClosedLoopAsync(stats, pool, start, stop)
                : RunOpenLoopAsync(stats, pool, start, stop));
        }

        var ticker = TickAsync(observer, start, stop.Token);
        await Task.WhenAll(runners).ConfigureAwait(false);
        Task[] pending;
        lock (_inFlightLock)
        {
            pending = [.. _inFlight];
        }

        // Calls end by their own deadlines; the drain never cancels them (that would count as CANCELLED).
        await Task.WhenAll(pending).ConfigureAwait(false);
        var elapsed = _time.GetElapsedTime(start);
        await stop.CancelAsync().ConfigureAwait(false);
        await ticker.ConfigureAwait(false);
        if (_badInput is { } message)
        {
            throw new BadInputException(message);
        }

        var results = Streams.Select(s => s.ToResult(s.Spec.IsClosedLoop ? elapsed : _plan.Duration)).ToArray();
        var open = results.Where(r => r.TargetRate is not null).ToArray();
        var lagP99 = open.Length == 0 ? 0 : open.Max(r => r.SchedulingLagMs.P99);
        var lagMax = open.Length == 0 ? 0 : open.Max(r => r.SchedulingLagMs.Max);
        var valid = lagP99 <= _plan.MaxLag.TotalMilliseconds;
        return new RunResult
        {
            Target = _plan.Target.ToString(),
            Mode = Streams.All(s => !s.Spec.IsClosedLoop) ? "open-loop" : Streams.All(s => s.Spec.IsClosedLoop) ? "closed-loop" : "mixed",
            DurationSeconds = _plan.Duration.TotalSeconds,
            Connections = _plan.Connections,
            Pushback = _plan.Pushback == PushbackMode.Honour ? "honour" : "ignore",
            MaxAttempts = _plan.MaxAttempts,
            CallsWaitedForConnection = waits.Waited,
            Streams = results,
            MaxSchedulingLagMs = lagMax,
            SchedulingLagP99Ms = lagP99,
            Valid = valid,
            InvalidReason = valid ? null : $"scheduling lag p99 {lagP99:0.0} ms > --max-lag {_plan.MaxLag.TotalMilliseconds:0} ms: the generator could not keep its own schedule (CPU?); numbers describe meshload, not the mesh",
        };
    }

    private async Task RunOpenLoopAsync(StreamStats stats, ChannelPool pool, long runStart, CancellationTokenSource stop)
    {
        var spec = stats.Spec;
        var schedule = new OpenLoopSchedule(_time, spec.Rate, _plan.Duration - spec.StartAfter);
        var start = runStart + (long)(spec.StartAfter.TotalSeconds * _time.TimestampFrequency);
        await schedule.RunAsync(start, (sequence, intended) =>
        {
            stats.RecordSent(TimeSpan.FromSeconds((_time.GetTimestamp() - intended) / (double)_time.TimestampFrequency));
            // The call's synchronous start (client, headers, HttpClient) runs on the pool, not on the
            // schedule's loop, so a burst of due calls leaves on time.
            Track(Task.Run(() => CallAsync(stats, pool, sequence, intended, stop)));
        }, stop.Token).ConfigureAwait(false);
    }

    private async Task RunClosedLoopAsync(StreamStats stats, ChannelPool pool, long runStart, CancellationTokenSource stop)
    {
        var spec = stats.Spec;
        if (spec.StartAfter > TimeSpan.Zero)
        {
            await Task.Delay(spec.StartAfter, _time, stop.Token).ConfigureAwait(false);
        }

        var end = runStart + (long)(_plan.Duration.TotalSeconds * _time.TimestampFrequency);
        long sequence = -1;
        var workers = Enumerable.Range(0, spec.Concurrency).Select(async _ =>
        {
            while (!stop.IsCancellationRequested && _time.GetTimestamp() < end)
            {
                // Closed loop: the next call waits for the last, so latency counts from the actual send
                // and hides queueing at the server (coordinated omission); every output says so.
                var sent = _time.GetTimestamp();
                stats.RecordSent(TimeSpan.Zero);
                await CallAsync(stats, pool, Interlocked.Increment(ref sequence), sent, stop).ConfigureAwait(false);
            }
        });
        await Task.WhenAll(workers).ConfigureAwait(false);
    }

    private void Track(Task call)
    {
        lock (_inFlightLock)
        {
            _inFlight.Add(call);
        }
    }

    private async Task CallAsync(StreamStats stats, ChannelPool pool, long sequence, long intended, CancellationTokenSource stop)
    {
        var spec = stats.Spec;
        var headers = new Metadata { { "x-api-key", spec.ApiKey } };
        if (spec.Criticality is not null)
        {
            headers.Add("x-mesh-criticality", spec.Criticality);
        }

        if (spec.TenantId is not null)
        {
            headers.Add("x-tenant-id", spec.TenantId);
        }

        // One deadline for the call and all its retries, as a gRPC retry policy does.
        var deadline = _time.GetUtcNow().UtcDateTime + spec.Deadline;
        var charge = spec.Method == MeshMethod.Charge ? RequestFactory.Charge(_runId, StreamIndex(stats), sequence) : null;
        var waited = false;
        Outcome outcome;
        Outcome? first = null;
        object? response = null;
        var attempts = 0;
        for (var attempt = 1; ; attempt++)
        {
            stats.RecordAttempt(waited);
            attempts = attempt;
            try
            {
                response = await RequestFactory.SendAsync(spec, pool.Next(), sequence, charge, new CallOptions(headers, deadline)).ConfigureAwait(false);
                outcome = Outcome.Success;
            }
            catch (RpcException ex)
            {
                outcome = Outcome.From(ex);
            }

            first ??= outcome;

            if (attempt >= _plan.MaxAttempts || outcome.Status is not (StatusCode.Unavailable or StatusCode.ResourceExhausted) || stop.IsCancellationRequested)
            {
                break;
            }

            waited = false;
            if (_plan.Pushback == PushbackMode.Honour)
            {
                if (outcome.PushbackSaysDoNotRetry)
                {
                    break;
                }

                if (outcome.Pushback is { } pushback && pushback > TimeSpan.Zero)
                {
                    if (_time.GetUtcNow().UtcDateTime + pushback >= deadline)
                    {
                        break;
                    }

                    await Task.Delay(pushback, _time, CancellationToken.None).ConfigureAwait(false);
                    waited = true;
                }
            }
        }

        stats.RecordCompleted(outcome, _time.GetElapsedTime(intended));
        if (_callLog is not null)
        {
            var (account, amount, key, paymentId, replayed) = CallLog.ChargeFields(charge, response);
            _callLog.Write(new CallRecord(
                spec.Name,
                sequence,
                Milliseconds(intended - _runStart),
                Milliseconds(_time.GetTimestamp() - _runStart),
                _runStartUtc.ToUnixTimeMilliseconds(),
                Outcome.StatusName(outcome.Status),
                outcome.Reason,
                first.Value.Key,
                attempts,
                account,
                amount,
                key,
                paymentId,
                replayed,
                outcome.Pushback is { } pushback ? (long)pushback.TotalMilliseconds : null));
        }
        if (outcome.Status == StatusCode.Unauthenticated && stats.OkCount == 0 && _badInput is null)
        {
            _badInput = $"the gateway refused the key of stream '{spec.Name}' (UNAUTHENTICATED at the first calls): check key= or the --*-key options";
            await stop.CancelAsync().ConfigureAwait(false);
        }
    }

    private int StreamIndex(StreamStats stats)
    {
        for (var i = 0; i < Streams.Count; i++)
        {
            if (ReferenceEquals(Streams[i], stats))
            {
                return i;
            }
        }

        return -1;
    }

    private double Milliseconds(long ticks) => ticks * 1000.0 / _time.TimestampFrequency;

    private async Task TickAsync(IRunObserver? observer, long start, CancellationToken cancellationToken)
    {
        var last = TimeSpan.Zero;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var elapsed = _time.GetElapsedTime(start);
                var samples = Streams.Select(s => (s, s.TakeInterval(elapsed, elapsed - last))).ToArray();
                last = elapsed;
                observer?.OnInterval(elapsed, samples);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
