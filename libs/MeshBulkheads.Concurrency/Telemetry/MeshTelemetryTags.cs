namespace MeshBulkheads.Concurrency.Telemetry;

/// <summary>
/// The attribute keys of every MeshBulkheads instrument and span, in one place (like Polly's
/// <c>ResilienceTelemetryTags</c>). The Prometheus exporter turns the dots into underscores
/// (<c>meshbulkheads.result</c> is exported as the label <c>meshbulkheads_result</c>).
/// </summary>
/// <remarks>
/// Every concurrency primitive (bulkhead, charge partitions, database pool, render workers,
/// reporting fan-out) uses the same vocabulary: <c>&lt;primitive&gt;.active_requests</c>,
/// <c>.queued_requests</c>, <c>.request.time_in_queue</c>, <c>.permit_limit</c> (or
/// <c>.queue_limit</c> where the capacity is a queue's) and <c>.requests</c> tagged with
/// <see cref="Result"/>. Values stay bounded: they come from configuration or fixed sets, never
/// from request data.
/// </remarks>
public static class MeshTelemetryTags
{
    /// <summary>The outcome of a request on a <c>.requests</c> counter (<c>acquired</c>, <c>queue_full</c>, <c>completed</c>, …).</summary>
    public const string Result = "meshbulkheads.result";

    /// <summary>The bulkhead name, e.g. <c>payments-charge</c>.</summary>
    public const string Bulkhead = "meshbulkheads.bulkhead";

    /// <summary>The authenticated tenant id (<c>x-tenant-id</c>).</summary>
    public const string Tenant = "meshbulkheads.tenant";

    /// <summary>The route: the gateway's YARP route id, or a service's gRPC service short name on spans.</summary>
    public const string Route = "meshbulkheads.route";

    /// <summary>Why a call was shed: the metric spelling (snake_case) of the <c>x-mesh-reject-reason</c>.</summary>
    public const string Reason = "meshbulkheads.reject_reason";

    /// <summary>Whether the caller's effective deadline had passed when its handler started: <c>met</c> or <c>passed</c>.</summary>
    public const string DeadlineState = "meshbulkheads.deadline.state";

    /// <summary>The call's criticality (<c>x-mesh-criticality</c>).</summary>
    public const string Criticality = "meshbulkheads.criticality";

    /// <summary>Which database pool: <c>charge</c> or <c>read</c>.</summary>
    public const string Pool = "meshbulkheads.pool";

    /// <summary>The charge partition (mailbox) index, <c>0</c> … <c>Payments:Partitions:Count − 1</c>.</summary>
    public const string Partition = "meshbulkheads.partition";

    /// <summary>The rate-limit store that failed (<c>redis</c>).</summary>
    public const string RateLimitStore = "meshbulkheads.rate_limit.store";

    /// <summary>The database product (OpenTelemetry semantic convention <c>db.system</c>).</summary>
    public const string DbSystem = "db.system";

    /// <summary>The gRPC status name (OpenTelemetry RPC semantic convention <c>rpc.grpc.status_code</c>).</summary>
    public const string GrpcStatusCode = "rpc.grpc.status_code";

    /// <summary>The RPC system, always <c>grpc</c> (OpenTelemetry RPC semantic convention).</summary>
    public const string RpcSystem = "rpc.system";

    /// <summary>The gRPC service's full name (OpenTelemetry RPC semantic convention).</summary>
    public const string RpcService = "rpc.service";

    /// <summary>The gRPC method name (OpenTelemetry RPC semantic convention).</summary>
    public const string RpcMethod = "rpc.method";

    /// <summary>The class of a failure, e.g. <c>timeout</c> (OpenTelemetry <c>error.type</c>).</summary>
    public const string ErrorType = "error.type";

    /// <summary>OpenTelemetry's semantic convention for the name of the server a client calls (a gateway destination name).</summary>
    public const string ServerAddress = "server.address";

    /// <summary>A gateway cluster id (from configuration).</summary>
    public const string Cluster = "meshbulkheads.cluster";

    /// <summary>A destination id of a gateway cluster (from configuration or the DNS resolver: bounded).</summary>
    public const string Destination = "meshbulkheads.destination";
}
