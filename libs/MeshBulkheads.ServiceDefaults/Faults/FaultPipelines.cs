using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;
using Polly;
using Polly.Simmy;
using Polly.Simmy.Behavior;
using Polly.Simmy.Fault;
using Polly.Simmy.Latency;

namespace MeshBulkheads.ServiceDefaults.Faults;

/// <summary>
/// One Polly pipeline of chaos strategies per injection point (<see cref="FaultTargets"/>): CPU burn
/// (<c>AddChaosBehavior</c>), latency (<c>AddChaosLatency</c>) and an error (<c>AddChaosFault</c>), each enabled, rated and
/// generated from the live <see cref="MeshFaults"/> on every call — not a copy taken at start — so a <c>PUT /faults</c>
/// applies to the next call and a fault's expiry switches it off by itself.
/// </summary>
public sealed class FaultPipelines
{
    /// <summary>The metadata key of an injected error (its value names the target), so nobody mistakes it for a real one.</summary>
    public const string FaultMetadata = "x-mesh-fault";

    private static readonly ResiliencePropertyKey<string?> MethodKey = new("meshbulkheads.fault.method");
    private static readonly ResiliencePropertyKey<FaultSpec?> LatencyKey = new("meshbulkheads.fault.latency");
    private static readonly ResiliencePropertyKey<FaultSpec?> ErrorKey = new("meshbulkheads.fault.error");
    private static readonly ResiliencePropertyKey<FaultSpec?> CpuKey = new("meshbulkheads.fault.cpu");

    private readonly MeshFaults _faults;
    private readonly MeshFaultOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ConcurrentDictionary<string, ResiliencePipeline> _pipelines = new(StringComparer.Ordinal);

    /// <summary>Creates the pipelines on the live fault state.</summary>
    public FaultPipelines(MeshFaults faults, IOptions<MeshFaultOptions> options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        _faults = faults;
        _options = options.Value;
        _timeProvider = timeProvider;
    }

    /// <summary>The faults this process holds.</summary>
    public MeshFaults Faults => _faults;

    /// <summary>
    /// Applies the faults active at <paramref name="target"/> for <paramref name="method"/> before the real work: waits the
    /// injected latency, burns the injected CPU, or throws the injected <see cref="RpcException"/>. Returns at once when
    /// nothing is active (the common case).
    /// </summary>
    public ValueTask InjectAsync(string target, string? method, CancellationToken cancellationToken)
    {
        return !_faults.HasAny(target) ? ValueTask.CompletedTask : InjectSlowAsync(target, method, cancellationToken);
    }

    private async ValueTask InjectSlowAsync(string target, string? method, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            context.Properties.Set(MethodKey, method);
            await For(target).ExecuteAsync(static _ => ValueTask.CompletedTask, context).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private ResiliencePipeline For(string target) => _pipelines.GetOrAdd(target, Build);

    private ResiliencePipeline Build(string target)
    {
        var builder = new ResiliencePipelineBuilder { Name = "meshbulkheads-faults", InstanceName = target, TimeProvider = _timeProvider };
        builder.AddChaosBehavior(new ChaosBehaviorStrategyOptions
        {
            EnabledGenerator = args => ValueTask.FromResult(Select(args.Context, target, FaultKinds.Cpu, CpuKey) is not null),
            InjectionRateGenerator = args => ValueTask.FromResult(Rate(args.Context, CpuKey)),
            BehaviorGenerator = args =>
            {
                var fault = args.Context.Properties.GetValue(CpuKey, null)!;
                Burn(TimeSpan.FromMilliseconds(Math.Min(fault.CpuMs, _options.MaxCpu.TotalMilliseconds)), args.Context.CancellationToken);
                return ValueTask.CompletedTask;
            },
            OnBehaviorInjected = args => Injected(args.Context, CpuKey),
        });
        builder.AddChaosLatency(new ChaosLatencyStrategyOptions
        {
            EnabledGenerator = args => ValueTask.FromResult(Select(args.Context, target, FaultKinds.Latency, LatencyKey) is not null),
            InjectionRateGenerator = args => ValueTask.FromResult(Rate(args.Context, LatencyKey)),
            LatencyGenerator = args =>
            {
                var fault = args.Context.Properties.GetValue(LatencyKey, null)!;
                var ms = fault.LatencyMs + (fault.JitterMs > 0 ? Random.Shared.NextDouble() * fault.JitterMs : 0);
                return ValueTask.FromResult(TimeSpan.FromMilliseconds(Math.Min(ms, _options.MaxLatency.TotalMilliseconds)));
            },
            OnLatencyInjected = args => Injected(args.Context, LatencyKey),
        });
        builder.AddChaosFault(new ChaosFaultStrategyOptions
        {
            EnabledGenerator = args => ValueTask.FromResult(Select(args.Context, target, FaultKinds.Error, ErrorKey) is not null),
            InjectionRateGenerator = args => ValueTask.FromResult(Rate(args.Context, ErrorKey)),
            FaultGenerator = args =>
            {
                var fault = args.Context.Properties.GetValue(ErrorKey, null)!;
                var status = MeshFaults.StatusOf(fault);
                return ValueTask.FromResult<Exception?>(new RpcException(
                    new Status(status, $"Injected fault ({fault.Target}{(fault.MethodPrefix.Length > 0 ? " " + fault.MethodPrefix : string.Empty)}): {status}. DELETE /faults on the admin port to stop it."),
                    new Metadata { { FaultMetadata, fault.Target }, { MeshMetadata.RetryPushbackMs, MeshRejection.DoNotRetryPushback } }));
            },
            OnFaultInjected = args => Injected(args.Context, ErrorKey),
        });
        return builder.Build();
    }

    private FaultSpec? Select(ResilienceContext context, string target, string kind, ResiliencePropertyKey<FaultSpec?> key)
    {
        var fault = _faults.Find(target, kind, context.Properties.GetValue(MethodKey, null));
        context.Properties.Set(key, fault);
        return fault;
    }

    private static double Rate(ResilienceContext context, ResiliencePropertyKey<FaultSpec?> key) =>
        context.Properties.GetValue(key, null)?.Ratio ?? 0;

    private ValueTask Injected(ResilienceContext context, ResiliencePropertyKey<FaultSpec?> key)
    {
        if (context.Properties.GetValue(key, null) is { } fault)
        {
            _faults.Injected(fault);
        }

        return ValueTask.CompletedTask;
    }

    private static void Burn(TimeSpan duration, CancellationToken cancellationToken)
    {
        // Real CPU on the calling thread (what an accidental CPU block does), bounded by MaxCpu and the caller.
        var watch = Stopwatch.StartNew();
        var x = 0.5;
        while (watch.Elapsed < duration && !cancellationToken.IsCancellationRequested)
        {
            for (var i = 0; i < 10_000; i++)
            {
                x = (x * 3.9999) * (1 - x);
            }
        }

        GC.KeepAlive(x);
    }
}
