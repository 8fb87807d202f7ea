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
}
