namespace MeshBulkheads.Payments.Partitions;

/// <summary>
/// Creates the <see cref="ChargePartitions"/> when the host starts (so no request's context is captured by their
/// consumers, and their gauges exist from the start) and stops them once the drain delay has passed and before
/// Kestrel stops: queued
/// charges fail at once with <c>UNAVAILABLE</c>/<c>shutting-down</c> (never started), new ones are refused the
/// same way, and the running ones are awaited within the host's shutdown timeout.
/// </summary>
internal sealed class ChargePartitionsLifetime(ChargePartitions partitions) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // Not in StoppingAsync: lifecycle services stop in reverse registration order, so this one's StoppingAsync
    // ran before ReadinessLifecycle's drain (Mesh:ShutdownDelay) and refused every charge the load balancer
    // still sent while the process was meant to keep serving (found by make chaos's rolling-restart).
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken)
    {
        // After the drain, and before Kestrel's StopAsync (registered first, stopped last), which waits for
        // in-flight calls: queued charges are answered now instead of being run one by one while the host drains.
        partitions.BeginStop();
        return partitions.StopAsync(cancellationToken);
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
