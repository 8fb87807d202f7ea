using Microsoft.AspNetCore.Http.Features;

namespace MeshBulkheads.Gateway.Deadlines.Internal;

/// <summary>
/// Stands in for the connection's <see cref="IHttpResetFeature"/> while a call is forwarded: when the
/// forwarder resets a started response because the gateway's deadline cancelled it (the caller is
/// still there), the reset is held back so <see cref="DeadlineMiddleware"/> can end the response with
/// <c>grpc-status: 4</c> in the trailers instead. Every other reset goes through at once.
/// </summary>
internal sealed class DeadlineResetFeature(IHttpResetFeature inner, CancellationToken deadline, CancellationToken caller) : IHttpResetFeature
{
    /// <summary>The error code of a reset held back, or null.</summary>
    public int? HeldBack { get; private set; }

    public void Reset(int errorCode)
    {
        if (deadline.IsCancellationRequested && !caller.IsCancellationRequested)
        {
            HeldBack = errorCode;
            return;
        }

        inner.Reset(errorCode);
    }
}
