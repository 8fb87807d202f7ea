using Grpc.Core;

namespace MeshBulkheads.Gateway.Tenancy.Internal;

/// <summary>
/// The request stream of an unauthenticated stream: every read also ends when the stream idles out (a handler that reads
/// without a token would otherwise wait for the client forever), and every message the client sends restarts the clock.
/// </summary>
internal sealed class IdleStreamReader<T>(IAsyncStreamReader<T> inner, IdleStreamClock clock) : IAsyncStreamReader<T>
{
    public T Current => inner.Current;

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, clock.Token);
        var moved = await inner.MoveNext(linked.Token).ConfigureAwait(false);
        if (moved)
        {
            clock.Restart();
        }

        return moved;
    }
}
