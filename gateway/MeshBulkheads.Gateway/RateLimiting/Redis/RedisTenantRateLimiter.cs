using System.Security.Authentication;
using MeshBulkheads.Gateway.Policy;
using MeshBulkheads.Gateway.Telemetry;
using MeshBulkheads.Gateway.Tenancy;
using StackExchange.Redis;

namespace MeshBulkheads.Gateway.RateLimiting.Redis;

/// <summary>
/// Token buckets in Redis, shared by every gateway replica pointed at the same server: one global
/// limit per tenant (<c>Gateway:RateLimiting:Store = Redis</c>). Keyed by tenant and tier; the rate
/// and burst are sent with every call, so a reload reaches a busy tenant at once.
/// </summary>
/// <remarks>
/// <para>When Redis cannot run the script (not connected, unreachable, or an error reply) the call is
/// decided by the in-process <see cref="TenantRateLimiter"/> instead (<em>fail open</em> to per-replica
/// limits). When the script was sent but no reply came within <see cref="RedisRateLimitOptions.Timeout"/>
/// the outcome is unknown (it may have taken the cost): the call is admitted without charging the
/// in-process bucket, so it is never charged twice. Either way tenants keep their tier (each replica enforcing
/// it on its own) rather than every call failing because a cache is down. Each failure is counted in
/// <c>meshbulkheads.gateway.rate_limit.store_errors</c>; the first one of an outage is logged at
/// Warning, the recovery at Information. Commands fail fast while disconnected (no backlog), and the
/// connection is retried in the background.</para>
/// <para>The per-process configuration generation is not part of the key: replicas count their own
/// reloads, so it would split one tenant's bucket. Keying by tier instead gives a tenant whose tier
/// changes a fresh, full bucket, like the in-process store.</para>
/// </remarks>
public sealed class RedisTenantRateLimiter : ITenantRateLimiter, IDisposable
{
    private readonly GatewayPolicyMonitor _monitor;
    private readonly TenantRateLimiter _fallback;
    private readonly GatewayMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<RedisTenantRateLimiter> _logger;
    private readonly RedisRateLimitOptions _options;
    private readonly Task<ConnectionMultiplexer> _connection;
    private int _failing;

    public RedisTenantRateLimiter(
        IOptions<RateLimitingOptions> options,
        GatewayPolicyMonitor monitor,
        TenantRateLimiter fallback,
        GatewayMetrics metrics,
        TimeProvider timeProvider,
        ILogger<RedisTenantRateLimiter> logger)
    {
        _options = options.Value.Redis;
        _monitor = monitor;
        _fallback = fallback;
        _metrics = metrics;
        _timeProvider = timeProvider;
        _logger = logger;
        _connection = ConnectionMultiplexer.ConnectAsync(CreateConfiguration(_options));
    }

    /// <summary>
    /// Waits (at most <see cref="RedisRateLimitOptions.Timeout"/>) for the first connection, so calls
    /// right after start do not fall back needlessly. Never throws: a Redis that is down is the fallback's job.
    /// </summary>
    public async Task WaitForConnectionAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _connection.WaitAsync(_options.Timeout, _timeProvider, cancellationToken);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Still connecting or unreachable: calls fall back until it answers.
        }
    }

    /// <summary>The StackExchange.Redis settings: short timeouts, no abort on a failed first connect, no backlog, and TLS when configured.</summary>
    internal static ConfigurationOptions CreateConfiguration(RedisRateLimitOptions options)
    {
        var configuration = ConfigurationOptions.Parse(options.Configuration!);
        var timeoutMs = (int)Math.Ceiling(options.Timeout.TotalMilliseconds);
        configuration.ConnectTimeout = timeoutMs;
        configuration.SyncTimeout = timeoutMs;
        configuration.AsyncTimeout = timeoutMs;
        // Start (and keep serving) with Redis down; reconnect in the background.
        configuration.AbortOnConnectFail = false;
        // Fail at once while disconnected instead of queueing calls until the connection returns.
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.ClientName ??= "meshbulkheads-gateway";
        if (options.Tls)
        {
            configuration.Ssl = true;
            configuration.SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
            if (options.TlsHost is { Length: > 0 } host)
            {
                configuration.SslHost = host;
            }

            if (options.TlsCaFile is { Length: > 0 } caFile)
            {
                // The library's own check: the chain must end at this issuer (also when the machine does not trust it).
                configuration.TrustIssuer(caFile);
            }
        }

        return configuration;
    }

    /// <inheritdoc />
    public async ValueTask<RateLimitDecision> TryAcquireAsync(GatewayTenant tenant, string routeId, CancellationToken cancellationToken)
    {
        var options = _monitor.Current.Options;
        // Tenancy validation admits only known tiers and policy validation requires every known tier.
        var limit = options.Tiers.TryGetValue(tenant.Tier, out var tierLimit) ? tierLimit : options.Tiers[TenantTiers.Bronze];
        var cost = options.CostOf(routeId);
        if (!_connection.IsCompletedSuccessfully)
        {
            // Still connecting: do not make the call wait for it.
            return await FallBackAsync(tenant, routeId, "connection", "the Redis connection is not established yet", cancellationToken);
        }

        try
        {
            var decision = await EvaluateAsync(tenant, limit, cost, cancellationToken);
            if (Interlocked.Exchange(ref _failing, 0) == 1)
            {
                GatewayLog.RateLimitStoreRecovered(_logger);
            }

            return decision;
        }
        catch (TimeoutException e) when (!cancellationToken.IsCancellationRequested)
        {
            // The script was sent and no reply came in time: it may have run and taken the cost from the
            // shared bucket. Charging the fallback bucket as well would charge the call twice, so admit it
            // uncharged (counted: error.type = timeout).
            RecordStoreError("timeout", e.Message);
            return new RateLimitDecision(true, cost, TimeSpan.Zero, limit);
        }
        catch (RedisException e) when (!cancellationToken.IsCancellationRequested)
        {
            // Not connected (the script never ran) or an error reply (it took nothing): the fallback decides.
            var errorType = e is RedisConnectionException ? "connection" : "server";
            return await FallBackAsync(tenant, routeId, errorType, e.Message, cancellationToken);
        }
    }

    private ValueTask<RateLimitDecision> FallBackAsync(GatewayTenant tenant, string routeId, string errorType, string error, CancellationToken cancellationToken)
    {
        RecordStoreError(errorType, error);
        return _fallback.TryAcquireAsync(tenant, routeId, cancellationToken);
    }

    private void RecordStoreError(string errorType, string error)
    {
        _metrics.RateLimitStoreError(errorType);
        if (Interlocked.Exchange(ref _failing, 1) == 0)
        {
            GatewayLog.RateLimitStoreFailed(_logger, errorType, error);
        }
    }

    private async Task<RateLimitDecision> EvaluateAsync(GatewayTenant tenant, TokenBucketLimit limit, int cost, CancellationToken cancellationToken)
    {
        var database = _connection.Result.GetDatabase();
        // The library's own timeout is checked by a heartbeat (about once a second): bound the wait here too.
        var result = await database.ScriptEvaluateAsync(
                RedisTokenBucketScript.Source,
                [new RedisKey(_options.KeyPrefix + tenant.Id + ":" + tenant.Tier)],
                [limit.TokensPerSecond, limit.Burst, cost])
            .WaitAsync(_options.Timeout, _timeProvider, cancellationToken);
        var reply = (RedisResult[]?)result
            ?? throw new RedisException("the token bucket script returned no reply");
        if (reply.Length != 2)
        {
            throw new RedisException($"the token bucket script returned {reply.Length} values instead of 2");
        }

        return (long)reply[0] == 1
            ? new RateLimitDecision(true, cost, TimeSpan.Zero, limit)
            : new RateLimitDecision(false, cost, TimeSpan.FromMilliseconds(Math.Max(1, (long)reply[1])), limit);
    }

    public void Dispose()
    {
        if (_connection.IsCompletedSuccessfully)
        {
            _connection.Result.Dispose();
        }
        else
        {
            // Connecting: dispose once it finishes (never block shutdown on it).
            _ = _connection.ContinueWith(static t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }
    }
}
