namespace MeshBulkheads.Gateway.Telemetry;

/// <summary>The gateway's log messages. API keys are never logged.</summary>
internal static partial class GatewayLog
{
    [LoggerMessage(1, LogLevel.Debug, "Rejected an unauthenticated call to {Path}: {Reason}", EventName = nameof(Unauthenticated))]
    public static partial void Unauthenticated(ILogger logger, string path, string reason);

    // No exception argument: YARP's HttpForwarder already logs the failure with its stack trace at Warning.
    [LoggerMessage(2, LogLevel.Information, "Backend failure on route {RouteId} (cluster {ClusterId}): {ForwarderError}; answered {GrpcStatus} with reason {Reason}", EventName = nameof(BackendFailure))]
    public static partial void BackendFailure(ILogger logger, string routeId, string clusterId, string forwarderError, string grpcStatus, string reason);
}
