namespace MeshBulkheads.ServiceDefaults.Hosting.Internal;

/// <summary>
/// Marks an admin endpoint (<c>/metrics</c>, <c>/healthz</c>, <c>/readyz</c>). Which listener may
/// serve a request is decided from the endpoint routing matched and the connection's listener, so
/// every spelling routing accepts (trailing slash, case, percent-encoding) gets the same answer.
/// </summary>
/// <param name="ServedOnGrpcListener">
/// Also served on the gRPC (h2c) listener: only <c>/readyz</c>, which YARP's active health checks
/// probe over HTTP/2 (a cluster's probes use its HTTP/2-only request version).
/// </param>
internal sealed record AdminEndpointMetadata(bool ServedOnGrpcListener);
