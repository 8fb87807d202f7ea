namespace MeshBulkheads.Payments.Partitions;

/// <summary>
/// Creates the <see cref="ChargePartitions"/> when the host starts (so no request's context is captured by their
/// consumers, and their gauges exist from the start) and stops them before anything else at shutdown: queued
/// charges fail at once with <c>UNAVAILABLE</c>/<c>shutting-down</c> (never started), new ones are refused the
/// same way, and the running ones are awaited within the host's shutdown timeout.
/// </summary>
internal sealed class ChargePartitionsLifetime(ChargePartitions partitions) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        // Before every StopAsync (Kestrel's included, which waits for in-flight calls): queued charges are
        // answered now instead of being run one by one while the host drains.
        partitions.BeginStop();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => partitions.StopAsync(cancellationToken);

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
