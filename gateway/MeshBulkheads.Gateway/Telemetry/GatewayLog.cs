namespace MeshBulkheads.Gateway.Telemetry;

/// <summary>The gateway's log messages. API keys are never logged.</summary>
internal static partial class GatewayLog
{
    [LoggerMessage(1, LogLevel.Debug, "Rejected an unauthenticated call to {Path}: {Reason}", EventName = nameof(Unauthenticated))]
    public static partial void Unauthenticated(ILogger logger, string path, string reason);

    // Rate-limited by LogThrottle: the first per route, cluster and error in each interval,
    // with the exception; the rest are counted into the next line (YARP's own per-call warning is off in appsettings.json).
    [LoggerMessage(2, LogLevel.Warning, "Backend failure on route {RouteId} (cluster {ClusterId}): {ForwarderError}; answered {GrpcStatus} with reason {Reason}. {Suppressed} more like it since the last such line were not logged", EventName = nameof(BackendFailure))]
    public static partial void BackendFailure(ILogger logger, Exception? exception, string routeId, string clusterId, string forwarderError, string grpcStatus, string reason, long suppressed);

    [LoggerMessage(8, LogLevel.Debug, "Deadline of {TimeoutMs} ms expired on route {RouteId} before the backend answered (response started: {ResponseStarted}); backend call cancelled", EventName = nameof(DeadlineExpired))]
    public static partial void DeadlineExpired(ILogger logger, string routeId, long timeoutMs, bool responseStarted);

    // The failures name settings and values, never API keys (the validators guarantee it).
    [LoggerMessage(3, LogLevel.Error, "Configuration reload refused; generation {Generation} keeps serving. {Failures}", EventName = nameof(ConfigReloadRejected))]
    public static partial void ConfigReloadRejected(ILogger logger, long generation, string failures);

    [LoggerMessage(4, LogLevel.Information, "Configuration reloaded: generation {Generation}", EventName = nameof(ConfigReloaded))]
    public static partial void ConfigReloaded(ILogger logger, long generation);

    [LoggerMessage(5, LogLevel.Debug, "Tenant {Tenant} over its rate limit on route {RouteId}: cost {Cost}, retry after {RetryAfterMs} ms", EventName = nameof(TenantRateLimited))]
    public static partial void TenantRateLimited(ILogger logger, string tenant, string routeId, int cost, long retryAfterMs);

    // Once per outage (not per call): the counter meshbulkheads.gateway.rate_limit.store_errors has the rate.
    [LoggerMessage(6, LogLevel.Warning, "Redis rate-limit store failed ({ErrorType}: {Error}); deciding with in-process buckets (each replica enforces the full tier rate) until Redis answers again", EventName = nameof(RateLimitStoreFailed))]
    public static partial void RateLimitStoreFailed(ILogger logger, string errorType, string error);

    [LoggerMessage(7, LogLevel.Information, "Redis rate-limit store answers again: tenant limits are global across replicas", EventName = nameof(RateLimitStoreRecovered))]
    public static partial void RateLimitStoreRecovered(ILogger logger);

    [LoggerMessage(9, LogLevel.Warning, "PITFALL SWITCH {Key} IS ON, never in production: the gateway's tenant rate limits are off (every call allowed) and its route bulkheads unbounded", EventName = nameof(TenantRateLimitsOff))]
    public static partial void TenantRateLimitsOff(ILogger logger, string key);

    [LoggerMessage(10, LogLevel.Information, "API keys file {Path} changed: applied ({Tenants} tenants, {Keys} keys)", EventName = nameof(ApiKeysFileApplied))]
    public static partial void ApiKeysFileApplied(ILogger logger, string path, int tenants, int keys);

    [LoggerMessage(30, LogLevel.Error, "{Message}", EventName = nameof(BackendCaFileRejected))]
    public static partial void BackendCaFileRejected(ILogger logger, string message);

    // The failures name settings and tenants, never a key (GatewayTenancyOptionsValidator).
    [LoggerMessage(11, LogLevel.Error, "API keys file {Path} changed but was refused; the last good keys keep serving. {Failures}", EventName = nameof(ApiKeysFileRejected))]
    public static partial void ApiKeysFileRejected(ILogger logger, string path, string failures);

    [LoggerMessage(12, LogLevel.Debug, "Ended an unauthenticated {Method} stream after {TimeoutMs} ms", EventName = nameof(UnauthenticatedStreamEnded))]
    public static partial void UnauthenticatedStreamEnded(ILogger logger, string method, double timeoutMs);
}
