using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;

namespace MeshBulkheads.Render.Workers;

/// <summary>The last check before a render starts: its caller's deadline, read from the clock.</summary>
internal static class RenderDeadline
{
    public static bool HasPassed(DateTimeOffset? deadline, TimeProvider timeProvider) =>
        deadline is { } d && timeProvider.GetUtcNow() >= d;

    public static RpcException Exceeded() => BulkheadRejectionMapper.ToRpcException(
        StatusCode.DeadlineExceeded,
        MeshRejectReasons.DeadlineExceeded,
        "The deadline passed before a render worker could start the job; it was not started.",
        retryAfter: null);
}
