namespace MeshBulkheads.Concurrency.Deadlines;

/// <summary>Where the effective deadline of a call came from.</summary>
public enum DeadlineSource
{
    /// <summary>The caller's <c>grpc-timeout</c>, within the method's maximum.</summary>
    Header = 0,

    /// <summary>No <c>grpc-timeout</c>: the method's default.</summary>
    Default,

    /// <summary>The caller's <c>grpc-timeout</c> exceeded the method's maximum and was clamped.</summary>
    Clamped,
}

/// <summary>
/// The effective deadline of the current gRPC call, set in <c>HttpContext.Features</c> by
/// <see cref="DeadlineInterceptor"/> (services) and the gateway's deadline middleware, both from
/// <see cref="DeadlineResolver"/>. The handler's <c>ServerCallContext.Deadline</c> and
/// <c>CancellationToken</c> reflect it as well. The one implementation is <see cref="DeadlineFeature"/>.
/// </summary>
public interface IDeadlineFeature
{
    /// <summary>Gets the effective deadline (UTC, on the interceptor's <see cref="TimeProvider"/>).</summary>
    DateTimeOffset Deadline { get; }

    /// <summary>Gets the whole budget granted when the call arrived (<see cref="Deadline"/> − arrival).</summary>
    TimeSpan Timeout { get; }

    /// <summary>Gets where the deadline came from.</summary>
    DeadlineSource Source { get; }

    /// <summary>Gets a token that fires at the deadline or when the call is cancelled.</summary>
    CancellationToken CancellationToken { get; }
}
