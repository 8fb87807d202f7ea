using System.Text.Json.Serialization;

namespace MeshBulkheads.ServiceDefaults.Faults;

/// <summary>
/// One fault as the admin API takes it (<c>PUT /faults</c>, JSON, camelCase): what to inject, where, to which methods,
/// how often and for how long. docs/faults.md has the table and examples.
/// </summary>
public sealed record FaultSpec
{
    /// <summary><c>latency</c>, <c>error</c> or <c>cpu</c>.</summary>
    public string Kind { get; init; } = string.Empty;

    /// <summary>
    /// Where it is injected: <c>server</c> (every process: inside the call's permit, before its handler), <c>store</c>
    /// (payments' ledger store: a slow or failing database), <c>payments-client</c> (reporting's calls to payments),
    /// <c>render-worker</c> (render's worker threads).
    /// </summary>
    public string Target { get; init; } = FaultTargets.Server;

    /// <summary>Only calls whose gRPC method starts with this (<c>/meshbulkheads.payments.v1.PaymentsService/</c>); empty: all.</summary>
    public string MethodPrefix { get; init; } = string.Empty;

    /// <summary>Added latency in milliseconds (kind latency).</summary>
    public double LatencyMs { get; init; }

    /// <summary>Up to this many milliseconds more, uniformly at random (kind latency): a distribution, not one value.</summary>
    public double JitterMs { get; init; }

    /// <summary>The gRPC status of an injected error (kind error), e.g. <c>UNAVAILABLE</c>.</summary>
    public string Status { get; init; } = "UNAVAILABLE";

    /// <summary>Milliseconds of CPU burnt on the calling thread (kind cpu).</summary>
    public double CpuMs { get; init; }

    /// <summary>The fraction of matching calls affected, 0 to 1.</summary>
    public double Ratio { get; init; } = 1;

    /// <summary>Seconds until it switches itself off; 0: <see cref="MeshFaultOptions.DefaultExpiry"/>.</summary>
    public double ExpiresInSeconds { get; init; }

    /// <summary>When it switches itself off: set by the process (ignored by <c>PUT /faults</c>; the faults file may name it, bounded by MaxExpiry).</summary>
    [JsonPropertyName("expiresAt")]
    public DateTimeOffset? ExpiresAt { get; init; }
}

/// <summary>The injection points.</summary>
public static class FaultTargets
{
    /// <summary>Every gRPC call of the process, inside its permit.</summary>
    public const string Server = "server";

    /// <summary>Payments' ledger store.</summary>
    public const string Store = "store";

    /// <summary>Reporting's calls to payments.</summary>
    public const string PaymentsClient = "payments-client";

    /// <summary>Render's worker threads (a slower renderer), before each render job.</summary>
    public const string RenderWorker = "render-worker";

    /// <summary>Every target.</summary>
    public static readonly string[] All = [Server, Store, PaymentsClient, RenderWorker];
}

/// <summary>The fault kinds.</summary>
public static class FaultKinds
{
    /// <summary>Added latency.</summary>
    public const string Latency = "latency";

    /// <summary>A gRPC error instead of the call.</summary>
    public const string Error = "error";

    /// <summary>CPU burnt on the calling thread.</summary>
    public const string Cpu = "cpu";

    /// <summary>Every kind.</summary>
    public static readonly string[] All = [Latency, Error, Cpu];
}
