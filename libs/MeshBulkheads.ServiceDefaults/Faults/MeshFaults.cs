using System.Collections.Immutable;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Grpc.Core;
using MeshBulkheads.Contracts;
using MeshBulkheads.ServiceDefaults.Telemetry;

namespace MeshBulkheads.ServiceDefaults.Faults;

/// <summary>
/// The live fault state of this process: what <c>PUT /faults</c> switched on, each with its server-side expiry, and a
/// generation that grows with every change (<c>meshbulkheads_faults_generation</c>), so a script can confirm a fault
/// is active before it measures. The Polly chaos strategies (<see cref="FaultPipelines"/>) read it on every call.
/// </summary>
public sealed class MeshFaults
{
    /// <summary>The meter of the fault instruments.</summary>
    public const string MeterName = MeshTelemetry.Prefix + ".Faults";

    private readonly TimeProvider _timeProvider;
    private readonly ILogger<MeshFaults> _logger;
    private readonly Counter<long> _injected;
    private readonly Lock _lock = new();
    private ImmutableArray<FaultSpec> _faults = [];
    private long _generation;

    /// <summary>Creates the state, with the faults configured at start (e.g. payments' ExtraQueryLatency pitfall) as permanent ones.</summary>
    public MeshFaults(TimeProvider timeProvider, IMeterFactory meterFactory, ILogger<MeshFaults> logger, IEnumerable<IConfiguredFault> configured)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _timeProvider = timeProvider;
        _logger = logger;
        Permanent = [.. configured.Select(c => c.Fault).OfType<FaultSpec>()];
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("meshbulkheads.faults.generation", () => Interlocked.Read(ref _generation), "{change}", "Grows by one with every change of the injected faults (PUT or DELETE /faults).");
        meter.CreateObservableGauge(
            "meshbulkheads.faults.active",
            () => Active().Select(f => new Measurement<int>(1, new(FaultTags.Kind, f.Kind), new(FaultTags.Target, f.Target), new(FaultTags.MethodPrefix, f.MethodPrefix))),
            "{fault}",
            "The active faults (info metric: 1 per fault, labelled with what it does and where).");
        _injected = meter.CreateCounter<long>("meshbulkheads.faults.injected", "{call}", "Calls a fault affected, by kind and target.");
    }

    /// <summary>Faults from configuration: always on, no expiry (restart to change).</summary>
    public IReadOnlyList<FaultSpec> Permanent { get; }

    /// <summary>How many times the faults changed.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>The unexpired faults switched on through the API, then the permanent ones.</summary>
    public IReadOnlyList<FaultSpec> Active()
    {
        var now = _timeProvider.GetUtcNow();
        return [.. _faults.Where(f => f.ExpiresAt > now), .. Permanent];
    }

    /// <summary>
    /// Replaces the faults (already validated) and logs the change with the token that made it; the generation grows
    /// by one, or becomes <paramref name="generation"/> when the change comes from the faults file.
    /// </summary>
    public long Replace(IReadOnlyList<FaultSpec> faults, string? tokenId, long? generation = null)
    {
        ArgumentNullException.ThrowIfNull(faults);
        lock (_lock)
        {
            _faults = [.. faults];
            if (generation is { } fromFile)
            {
                Interlocked.Exchange(ref _generation, fromFile);
            }
            else
            {
                generation = Interlocked.Increment(ref _generation);
            }
        }

        FaultsLog.Changed(_logger, generation.Value, faults.Count, string.Join("; ", faults.Select(Describe)), tokenId ?? "none");
        return generation.Value;
    }

    /// <summary>Whether any fault is active at <paramref name="target"/> (the fast path of every call: no list, no Polly).</summary>
    public bool HasAny(string target)
    {
        var faults = _faults;
        if (faults.IsEmpty && Permanent.Count == 0)
        {
            return false;
        }

        var now = _timeProvider.GetUtcNow();
        foreach (var fault in faults)
        {
            if (fault.Target == target && fault.ExpiresAt > now)
            {
                return true;
            }
        }

        foreach (var fault in Permanent)
        {
            if (fault.Target == target)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The first active fault of <paramref name="kind"/> at <paramref name="target"/> for <paramref name="method"/>, or null.</summary>
    public FaultSpec? Find(string target, string kind, string? method)
    {
        var faults = _faults;
        if (faults.IsEmpty && Permanent.Count == 0)
        {
            return null;
        }

        var now = _timeProvider.GetUtcNow();
        foreach (var fault in faults)
        {
            if (fault.ExpiresAt > now && Matches(fault, target, kind, method))
            {
                return fault;
            }
        }

        foreach (var fault in Permanent)
        {
            if (Matches(fault, target, kind, method))
            {
                return fault;
            }
        }

        return null;
    }

    /// <summary>Counts an affected call and marks the current span.</summary>
    internal void Injected(FaultSpec fault)
    {
        _injected.Add(1, new KeyValuePair<string, object?>(FaultTags.Kind, fault.Kind), new KeyValuePair<string, object?>(FaultTags.Target, fault.Target));
        Activity.Current?.AddEvent(new ActivityEvent("meshbulkheads.fault.injected", tags: new ActivityTagsCollection
        {
            [FaultTags.Kind] = fault.Kind,
            [FaultTags.Target] = fault.Target,
            [FaultTags.MethodPrefix] = fault.MethodPrefix,
        }));
    }

    /// <summary>The gRPC status an error fault answers with.</summary>
    internal static StatusCode StatusOf(FaultSpec fault) =>
        Enum.GetValues<StatusCode>().FirstOrDefault(s => string.Equals(GrpcStatusNames.Canonical(s), fault.Status, StringComparison.OrdinalIgnoreCase), StatusCode.Unavailable);

    private static bool Matches(FaultSpec fault, string target, string kind, string? method) =>
        fault.Target == target && fault.Kind == kind && (fault.MethodPrefix.Length == 0 || (method?.StartsWith(fault.MethodPrefix, StringComparison.Ordinal) ?? false));

    private static string Describe(FaultSpec f) => f.Kind switch
    {
        FaultKinds.Latency => $"{f.Target} {f.MethodPrefix}* +{f.LatencyMs}ms(+{f.JitterMs}) x{f.Ratio} until {f.ExpiresAt:O}",
        FaultKinds.Error => $"{f.Target} {f.MethodPrefix}* {f.Status} x{f.Ratio} until {f.ExpiresAt:O}",
        _ => $"{f.Target} {f.MethodPrefix}* cpu {f.CpuMs}ms x{f.Ratio} until {f.ExpiresAt:O}",
    };
}

/// <summary>A fault configured at start (a pitfall switch that maps onto the fault model).</summary>
public interface IConfiguredFault
{
    /// <summary>The fault, permanent for the process's life; null when the setting is off.</summary>
    FaultSpec? Fault { get; }
}

/// <summary>The tag keys of the fault instruments and span events.</summary>
public static class FaultTags
{
    /// <summary>latency, error or cpu.</summary>
    public const string Kind = "meshbulkheads.fault.kind";

    /// <summary>server, store or payments-client.</summary>
    public const string Target = "meshbulkheads.fault.target";

    /// <summary>The method prefix, empty for all.</summary>
    public const string MethodPrefix = "meshbulkheads.fault.method_prefix";
}

internal static partial class FaultsLog
{
    [LoggerMessage(EventId = 2, EventName = nameof(FileRejected), Level = LogLevel.Error,
        Message = "The faults file {File} was not applied (the last good faults stay): {Problem}")]
    public static partial void FileRejected(ILogger logger, string file, string problem);

    [LoggerMessage(EventId = 1, EventName = nameof(Changed), Level = LogLevel.Warning,
        Message = "Injected faults changed (generation {Generation}, by admin token {TokenId}): {Count} active: {Faults}")]
    public static partial void Changed(ILogger logger, long generation, int count, string faults, string tokenId);
}
