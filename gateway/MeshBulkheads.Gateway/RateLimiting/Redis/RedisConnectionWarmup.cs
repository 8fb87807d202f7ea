namespace MeshBulkheads.Gateway.RateLimiting.Redis;

/// <summary>
/// With the Redis store, connects before the gateway accepts calls (bounded by
/// <c>Gateway:RateLimiting:Redis:Timeout</c>; a Redis that is down does not stop the start).
/// Hosted services start before the web server, so the first calls already use the shared buckets.
/// </summary>
internal sealed class RedisConnectionWarmup(IOptions<RateLimitingOptions> options, IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        options.Value.Store == RateLimitStore.Redis
            ? services.GetRequiredService<RedisTenantRateLimiter>().WaitForConnectionAsync(cancellationToken)
            : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
