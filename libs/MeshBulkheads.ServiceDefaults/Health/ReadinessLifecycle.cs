using MeshBulkheads.ServiceDefaults.Hosting;

namespace MeshBulkheads.ServiceDefaults.Health;

/// <summary>
/// Runs the warm-ups once the server is listening, then marks the process ready; on stop, marks it
/// not ready first and waits <see cref="MeshHostingOptions.ShutdownDelay"/> before Kestrel stops.
/// </summary>
internal sealed partial class ReadinessLifecycle(
    ReadinessState state,
    IEnumerable<IWarmup> warmups,
    IOptions<MeshHostingOptions> options,
    TimeProvider timeProvider,
    IHostApplicationLifetime lifetime,
    ILogger<ReadinessLifecycle> logger) : IHostedLifecycleService
{
    private Task? _warmup;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        // Warm up in the background: liveness answers while we warm, readiness says "starting".
        _warmup = Task.Run(() => WarmUpAsync(lifetime.ApplicationStopping), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        state.MarkNotReady("stopping");
        var delay = options.Value.ShutdownDelay;
        if (delay > TimeSpan.Zero)
        {
            LogDrainDelay(logger, delay.TotalSeconds);
            try
            {
                await Task.Delay(delay, timeProvider, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (_warmup is not null)
        {
            await _warmup.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task WarmUpAsync(CancellationToken stopping)
    {
        foreach (var warmup in warmups)
        {
            var attempt = 0;
            while (!stopping.IsCancellationRequested)
            {
                try
                {
                    await warmup.WarmUpAsync(stopping);
                    break;
                }
                catch (Exception ex) when (!stopping.IsCancellationRequested)
                {
                    attempt++;
                    state.MarkNotReady($"warm-up {warmup.GetType().Name} failed: {ex.Message}");
                    LogWarmupFailed(logger, warmup.GetType().Name, attempt, ex);
                    try
                    {
                        await Task.Delay(TimeSpan.FromSeconds(Math.Min(5, attempt)), timeProvider, stopping);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        if (!stopping.IsCancellationRequested)
        {
            state.MarkReady();
            LogReady(logger);
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Ready: warm-up finished.", EventName = "LogReady")]
    private static partial void LogReady(ILogger logger);

    [LoggerMessage(2, LogLevel.Warning, "Warm-up {Warmup} failed (attempt {Attempt}); retrying.", EventName = "LogWarmupFailed")]
    private static partial void LogWarmupFailed(ILogger logger, string warmup, int attempt, Exception exception);

    [LoggerMessage(3, LogLevel.Information, "Not ready: draining for {Seconds} s before stopping.", EventName = "LogDrainDelay")]
    private static partial void LogDrainDelay(ILogger logger, double seconds);
}
