using Grpc.Core;
using MeshBulkheads.Concurrency.Deadlines;

namespace MeshBulkheads.Render.Workers;

/// <summary>The last check before a render starts is the library's <see cref="DeadlineGuard"/>; this is render's message for it.</summary>
internal static class RenderDeadline
{
    public static RpcException Exceeded() =>
        DeadlineGuard.Exceeded("The deadline passed before a render worker could start the job; it was not started.").ToRpcException();
}
