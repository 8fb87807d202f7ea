using MeshBulkheads.Concurrency.Rejections;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using MeshBulkheads.Concurrency.Telemetry;
using MeshBulkheads.ServiceDefaults.Telemetry;

namespace MeshBulkheads.Gateway.Telemetry;

/// <summary>
/// The gateway's own instruments (meter <c>MeshBulkheads.Gateway</c>), tagged with the shared
/// <see cref="MeshTelemetryTags"/>. Tag values are bounded:
/// route ids and tenant ids come from configuration (a tenant becomes a tag only after it
/// authenticated), reasons from <see cref="MeshBulkheads.Concurrency.Rejections.MeshRejectReasons"/>, statuses from the gRPC enum.
/// </summary>
public sealed class GatewayMetrics
{
    public const string MeterName = MeshTelemetry.Prefix + ".Gateway";

    /// <summary>Tenant tag value for calls that did not authenticate.</summary>
    public const string NoTenant = "unauthenticated";

    /// <summary>The <see cref="MeshTelemetryTags.Result"/> of an admitted call on <c>meshbulkheads.gateway.rate_limit.requests</c>.</summary>
    public const string AllowedResult = "allowed";

    /// <summary>The <see cref="MeshTelemetryTags.Result"/> of a refused call on <c>meshbulkheads.gateway.rate_limit.requests</c>.</summary>
    public const string RejectedResult = "rejected";

    private readonly Meter _meter;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _rateLimitRequests;
    private readonly Counter<long> _reloadFailures;
    private readonly Counter<long> _storeErrors;
    private readonly Counter<long> _resizeFailures;
    private readonly Counter<long> _dnsFailures;
    private readonly Histogram<double> _duration;

    public GatewayMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _rejected = _meter.CreateRequestCounter(
            "meshbulkheads.gateway.rejected_requests",
            "Requests the gateway answered itself with a gRPC error instead of a backend's answer, by route and reason.");
        _rateLimitRequests = _meter.CreateRequestCounter(
            "meshbulkheads.gateway.rate_limit.requests",
            "Calls through the tenant rate limit by tenant, route and result (allowed|rejected).");
        _reloadFailures = _meter.CreateCounter<long>(
            "meshbulkheads.gateway.config.reload_failures",
            unit: "{reload}",
            description: "Configuration reloads refused by validation; the last good configuration kept serving.");
        _storeErrors = _meter.CreateCounter<long>(
            "meshbulkheads.gateway.rate_limit.store_errors",
            unit: "{error}",
            description: "Rate-limit decisions the shared store (Redis) could not make: a timeout (outcome unknown) admits the call uncharged, any other error lets the in-process buckets decide.");
        _resizeFailures = _meter.CreateCounter<long>(
            "meshbulkheads.gateway.route_bulkhead.resize_failures",
            unit: "{resize}",
            description: "Route bulkhead options (permits from the available destinations) refused by validation; the last good options kept serving.");
        _dnsFailures = _meter.CreateCounter<long>(
            "meshbulkheads.gateway.dns.resolution_failures",
            unit: "{lookup}",
            description: "Destination host names that did not resolve at a DNS refresh, by name and socket error; the name has no destinations (or keeps its last addresses on a transient error) until a refresh resolves it.");
        _duration = _meter.CreateSecondsHistogram(
            "meshbulkheads.gateway.request.duration",
            "Time from the gateway receiving a proxied call to its answer, by tenant, route and gRPC status.");
    }

    /// <summary>Counts one request rejected by the gateway; <paramref name="reason"/> is the wire value, tagged in its metric spelling (snake_case).</summary>
    public void Rejected(string route, string reason) =>
        _rejected.Add(1, new TagList { { MeshTelemetryTags.Route, route }, { MeshTelemetryTags.Reason, MeshRejectReasons.ToMetricTag(reason) } });

    /// <summary>Counts one rate-limit decision.</summary>
    public void RateLimitDecision(string tenant, string route, bool allowed) =>
        _rateLimitRequests.Add(1, new TagList { { MeshTelemetryTags.Tenant, tenant }, { MeshTelemetryTags.Route, route }, { MeshTelemetryTags.Result, allowed ? AllowedResult : RejectedResult } });

    /// <summary>Counts one decision the Redis store failed to make (the in-process buckets made it).</summary>
    public void RateLimitStoreError(string errorType) =>
        _storeErrors.Add(1, new TagList { { MeshTelemetryTags.RateLimitStore, "redis" }, { MeshTelemetryTags.ErrorType, errorType } });

    /// <summary>Records the duration of one proxied call.</summary>
    public void RequestDuration(TimeSpan duration, string tenant, string route, string grpcStatus) =>
        _duration.RecordSeconds(duration, new TagList { { MeshTelemetryTags.Tenant, tenant }, { MeshTelemetryTags.Route, route }, { MeshTelemetryTags.GrpcStatusCode, grpcStatus } });

    /// <summary>Counts one refused route bulkhead resize.</summary>
    public void RouteResizeFailed(string route) =>
        _resizeFailures.Add(1, new KeyValuePair<string, object?>(MeshTelemetryTags.Route, route));

    /// <summary>Counts one failed lookup of a destination name (<paramref name="host"/> comes from configuration: bounded).</summary>
    public void DnsResolutionFailed(string host, string socketError) =>
        _dnsFailures.Add(1, new TagList { { MeshTelemetryTags.ServerAddress, host }, { MeshTelemetryTags.ErrorType, socketError } });

    /// <summary>Counts one refused configuration reload.</summary>
    public void ConfigReloadFailed() => _reloadFailures.Add(1);

    /// <summary>Publishes the configuration generation (<c>meshbulkheads.gateway.config.generation</c>).</summary>
    public void ObserveConfigGeneration(Func<long> generation) =>
        _meter.CreateObservableGauge(
            "meshbulkheads.gateway.config.generation",
            generation,
            unit: "{generation}",
            description: "The generation of the gateway's configuration in force: 1 at start, +1 per accepted reload.");

    /// <summary>
    /// Publishes <c>meshbulkheads.gateway.destination.available</c>: 1 while a destination may receive
    /// calls, 0 while an active probe or passive health marks it unhealthy (the chaos experiments time
    /// an ejection and a recovery on it).
    /// </summary>
    public void ObserveDestinationHealth(Func<IEnumerable<Measurement<int>>> destinations) =>
        _meter.CreateObservableGauge(
            "meshbulkheads.gateway.destination.available",
            destinations,
            unit: "{destination}",
            description: "1 while the destination is available to its cluster, 0 while active or passive health marks it unhealthy.");
}
