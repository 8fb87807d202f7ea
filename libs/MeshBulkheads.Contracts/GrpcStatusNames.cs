using Grpc.Core;

namespace MeshBulkheads.Contracts;

/// <summary>
/// gRPC's canonical upper-case status names (OK, UNAVAILABLE, …: what the gRPC spec, grpcurl and the docs
/// print). One table for every process and tool that shows or labels a status.
/// </summary>
public static class GrpcStatusNames
{
    /// <summary>The canonical name of <paramref name="status"/>, or <see langword="null"/> for a value outside the spec's 17.</summary>
    /// <param name="status">The status code.</param>
    /// <returns>For example <c>RESOURCE_EXHAUSTED</c>.</returns>
    public static string? Canonical(StatusCode status) => status switch
    {
        StatusCode.OK => "OK",
        StatusCode.Cancelled => "CANCELLED",
        StatusCode.Unknown => "UNKNOWN",
        StatusCode.InvalidArgument => "INVALID_ARGUMENT",
        StatusCode.DeadlineExceeded => "DEADLINE_EXCEEDED",
        StatusCode.NotFound => "NOT_FOUND",
        StatusCode.AlreadyExists => "ALREADY_EXISTS",
        StatusCode.PermissionDenied => "PERMISSION_DENIED",
        StatusCode.ResourceExhausted => "RESOURCE_EXHAUSTED",
        StatusCode.FailedPrecondition => "FAILED_PRECONDITION",
        StatusCode.Aborted => "ABORTED",
        StatusCode.OutOfRange => "OUT_OF_RANGE",
        StatusCode.Unimplemented => "UNIMPLEMENTED",
        StatusCode.Internal => "INTERNAL",
        StatusCode.Unavailable => "UNAVAILABLE",
        StatusCode.DataLoss => "DATA_LOSS",
        StatusCode.Unauthenticated => "UNAUTHENTICATED",
        _ => null,
    };
}
