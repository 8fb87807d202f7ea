using Microsoft.Extensions.Logging;

namespace MeshBulkheads.Concurrency.Bulkheads.Internal;

/// <summary>Source-generated log messages of the bulkheads; each EventName equals its method name.</summary>
internal static partial class BulkheadLog
{
    [LoggerMessage(1, LogLevel.Information, "Bulkhead {BulkheadName} applied reloaded options: PermitLimit={PermitLimit}, QueueLimit={QueueLimit}, MaxQueueTime={MaxQueueTime}.", EventName = nameof(ReloadApplied))]
    public static partial void ReloadApplied(ILogger logger, string bulkheadName, int permitLimit, int queueLimit, TimeSpan maxQueueTime);

    [LoggerMessage(2, LogLevel.Warning, "Bulkhead {BulkheadName} rejected reloaded options and keeps the last good ones: {Failures}", EventName = nameof(ReloadRejected))]
    public static partial void ReloadRejected(ILogger logger, string bulkheadName, string failures);

    [LoggerMessage(3, LogLevel.Debug, "Bulkhead {BulkheadName} rejected a request: {Reason}.", EventName = nameof(RequestRejected))]
    public static partial void RequestRejected(ILogger logger, string bulkheadName, BulkheadRejectionReason reason);

    [LoggerMessage(4, LogLevel.Information, "Deadline policies reloaded: AllMethods Default={Default}, Max={Max}; {MethodCount} method entries.", EventName = nameof(DeadlinesReloadApplied))]
    public static partial void DeadlinesReloadApplied(ILogger logger, TimeSpan @default, TimeSpan max, int methodCount);

    [LoggerMessage(5, LogLevel.Warning, "Deadline policies: the reloaded options were rejected and the last good ones stay in force: {Failures}", EventName = nameof(DeadlinesReloadRejected))]
    public static partial void DeadlinesReloadRejected(ILogger logger, string failures);

    [LoggerMessage(6, LogLevel.Warning, "PITFALL SWITCH {Key} IS ON, never in production: every bulkhead admits without bound (permits and queue 100000, no queue-time shedding, no deadline-aware admission, no tenant share, no adaptive limit; worker pools, database pools and Kestrel's limits stay). Permit limits in force: {PermitLimits}", EventName = nameof(NoBulkheads))]
    public static partial void NoBulkheads(ILogger logger, string key, string permitLimits);
}
