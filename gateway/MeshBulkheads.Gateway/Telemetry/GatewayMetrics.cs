using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace MeshBulkheads.Gateway.Telemetry;

/// <summary>
/// The gateway's own instruments (meter <c>MeshBulkheads.Gateway</c>). Tag values are bounded:
/// route ids and tenant ids come from configuration (a tenant becomes a tag only after it
/// authenticated), reasons from <see cref="GatewayRejectReasons"/>, statuses from the gRPC enum.
/// </summary>
public sealed class GatewayMetrics
{
    public const string MeterName = "MeshBulkheads.Gateway";

    /// <summary>The YARP route id, e.g. <c>payments</c>.</summary>
    public const string RouteTag = "meshbulkheads.route";

    /// <summary>The <c>x-mesh-reject-reason</c> value.</summary>
    public const string ReasonTag = "meshbulkheads.reject_reason";

    /// <summary>The authenticated tenant id, or <see cref="NoTenant"/>.</summary>
    public const string TenantTag = "meshbulkheads.tenant";

    /// <summary><c>allowed</c> or <c>rejected</c> on <c>meshbulkheads.gateway.rate_limit.decisions</c>.</summary>
    public const string ResultTag = "meshbulkheads.rate_limit.result";

    /// <summary>The gRPC status name the caller got, e.g. <c>OK</c>, <c>ResourceExhausted</c>.</summary>
    public const string GrpcStatusTag = "rpc.grpc.status_code";

    /// <summary>The rate-limit store that failed, on <c>meshbulkheads.gateway.rate_limit.store_errors</c> (<c>redis</c>).</summary>
    public const string StoreTag = "meshbulkheads.rate_limit.store";

    /// <summary>What went wrong: <c>timeout</c>, <c>connection</c> or <c>server</c> (OpenTelemetry's <c>error.type</c>).</summary>
    public const string ErrorTypeTag = "error.type";

    /// <summary>Tenant tag value for calls that did not authenticate.</summary>
    public const string NoTenant = "unauthenticated";

    public const string AllowedResult = "allowed";
    public const string RejectedResult = "rejected";

    private readonly Meter _meter;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _decisions;
    private readonly Counter<long> _reloadFailures;
    private readonly Counter<long> _storeErrors;
    private readonly Histogram<double> _duration;

    public GatewayMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _rejected = _meter.CreateCounter<long>(
            "meshbulkheads.gateway.rejected_requests",
            unit: "{request}",
            description: "Requests the gateway answered itself with a gRPC error instead of a backend's answer, by route and reason.");
        _decisions = _meter.CreateCounter<long>(
            "meshbulkheads.gateway.rate_limit.decisions",
            unit: "{request}",
            description: "Rate-limit decisions by tenant, route and result (allowed|rejected).");
        _reloadFailures = _meter.CreateCounter<long>(
            "meshbulkheads.gateway.config.reload_failures",
            unit: "{reload}",
            description: "Configuration reloads refused by validation; the last good configuration kept serving.");
        _storeErrors = _meter.CreateCounter<long>(
            "meshbulkheads.gateway.rate_limit.store_errors",
            unit: "{error}",
            description: "Rate-limit decisions the shared store (Redis) could not make; each was made by the in-process buckets instead.");
        _duration = _meter.CreateHistogram(
            "meshbulkheads.gateway.request.duration",
            unit: "s",
            description: "Time from the gateway receiving a proxied call to its answer, by tenant, route and gRPC status.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
    }

    /// <summary>Counts one request rejected by the gateway.</summary>
    public void Rejected(string route, string reason)
    {
        if (_rejected.Enabled)
        {
            _rejected.Add(1, new TagList { { RouteTag, route }, { ReasonTag, reason } });
        }
    }

    /// <summary>Counts one rate-limit decision.</summary>
    public void RateLimitDecision(string tenant, string route, bool allowed)
    {
        if (_decisions.Enabled)
        {
            _decisions.Add(1, new TagList { { TenantTag, tenant }, { RouteTag, route }, { ResultTag, allowed ? AllowedResult : RejectedResult } });
        }
    }

    /// <summary>Counts one decision the Redis store failed to make (the in-process buckets made it).</summary>
    public void RateLimitStoreError(string errorType)
    {
        if (_storeErrors.Enabled)
        {
            _storeErrors.Add(1, new TagList { { StoreTag, "redis" }, { ErrorTypeTag, errorType } });
        }
    }

    /// <summary>Records the duration of one proxied call.</summary>
    public void RequestDuration(TimeSpan duration, string tenant, string route, string grpcStatus)
    {
        if (_duration.Enabled)
        {
            _duration.Record(duration.TotalSeconds, new TagList { { TenantTag, tenant }, { RouteTag, route }, { GrpcStatusTag, grpcStatus } });
        }
    }

    /// <summary>Counts one refused configuration reload.</summary>
    public void ConfigReloadFailed() => _reloadFailures.Add(1);

    /// <summary>Publishes the configuration generation (<c>meshbulkheads.gateway.config.generation</c>).</summary>
    public void ObserveConfigGeneration(Func<long> generation) =>
        _meter.CreateObservableGauge(
            "meshbulkheads.gateway.config.generation",
            generation,
            unit: "{generation}",
            description: "The generation of the gateway's configuration in force: 1 at start, +1 per accepted reload.");
}
