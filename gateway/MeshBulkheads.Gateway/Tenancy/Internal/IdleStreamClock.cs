namespace MeshBulkheads.Gateway.Tenancy.Internal;

/// <summary>
/// The idle timer of one unauthenticated stream, on the injected <see cref="TimeProvider"/>: <see cref="Token"/> is
/// cancelled once <c>timeout</c> passes without a <see cref="Restart"/> (a message from the client).
/// </summary>
internal sealed class IdleStreamClock : IDisposable
{
    private readonly CancellationTokenSource _idle;
    private readonly ITimer _timer;
    private readonly TimeSpan _timeout;
    private volatile bool _expired;

    public IdleStreamClock(TimeProvider timeProvider, TimeSpan timeout, CancellationToken callCancelled)
    {
        _timeout = timeout;
        _idle = CancellationTokenSource.CreateLinkedTokenSource(callCancelled);
        _timer = timeProvider.CreateTimer(static state => ((IdleStreamClock)state!).Expire(), this, timeout, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Cancelled when the stream idled out or the call ended.</summary>
    public CancellationToken Token => _idle.Token;

    /// <summary>Whether the stream idled out (rather than the client cancelling it).</summary>
    public bool Expired => _expired;

    public void Restart()
    {
        if (!_expired)
        {
            _timer.Change(_timeout, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        _idle.Dispose();
    }

    private void Expire()
    {
        _expired = true;
        try
        {
            _idle.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call ended as the timer fired.
        }
    }
}
