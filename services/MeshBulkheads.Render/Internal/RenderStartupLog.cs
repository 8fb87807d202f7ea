namespace MeshBulkheads.Render.Internal;

internal static partial class RenderStartupLog
{
    [LoggerMessage(1, LogLevel.Information, "Render bulkhead {Bulkhead}: {PermitLimit} permits from Render:WorkerCount ({WorkerCount}), queue {QueueLimit}, max queue time {MaxQueueTime}", EventName = nameof(BulkheadDerived))]
    public static partial void BulkheadDerived(ILogger logger, string bulkhead, int permitLimit, string workerCount, int queueLimit, TimeSpan maxQueueTime);
}
