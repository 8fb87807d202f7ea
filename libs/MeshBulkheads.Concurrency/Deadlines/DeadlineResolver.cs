using Grpc.Core;
using MeshBulkheads.Concurrency.Deadlines.Internal;
using MeshBulkheads.Concurrency.Rejections;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace MeshBulkheads.Concurrency.Deadlines;

/// <summary>
/// The one place a call's deadline is decided, for the services (<see cref="DeadlineInterceptor"/>) and the gateway
/// alike: the raw <c>grpc-timeout</c>, the policy of the resolved method (<c>Deadlines:Methods:&lt;prefix&gt;</c>, longest
/// prefix wins, else <c>Deadlines:AllMethods</c>) and the clock give the effective deadline or a rejection.
/// </summary>
/// <remarks>
/// Zero or negative → <c>DEADLINE_EXCEEDED</c> (<c>deadline-exceeded</c>); malformed, or sent twice →
/// <c>INVALID_ARGUMENT</c> (<c>malformed-grpc-timeout</c>); absent → the method's <c>Default</c>; above the method's
/// <c>Max</c> → clamped. grpc-dotnet ignores a zero or malformed value (the call would run with no deadline at all), so
/// this reads the header itself. Registered by <c>AddBulkheads()</c>; it follows valid reloads of <c>Deadlines:*</c>.
/// </remarks>
public sealed class DeadlineResolver
{
    private readonly Func<DeadlinePolicyOptions> _options;
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates a resolver with a fixed policy (no reloads); <c>AddBulkheads()</c> registers one that follows reloads.</summary>
    /// <param name="options">The deadline policies.</param>
    /// <param name="timeProvider">The clock.</param>
    public DeadlineResolver(IOptions<DeadlinePolicyOptions> options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _options = () => options.Value;
        _timeProvider = timeProvider;
    }

    internal DeadlineResolver(DeadlinePolicyMonitor monitor, TimeProvider timeProvider)
    {
        _options = () => monitor.Current;
        _timeProvider = timeProvider;
    }

    /// <summary>The policies in force (the last valid configuration).</summary>
    public DeadlinePolicyOptions Policies => _options();

    /// <summary>The clock the deadlines are read on.</summary>
    public TimeProvider TimeProvider => _timeProvider;

    /// <summary>Resolves the deadline of a call that arrives now.</summary>
    /// <param name="method">The resolved method's full name (<c>/package.Service/Method</c>), never the raw path.</param>
    /// <param name="grpcTimeout">The raw <c>grpc-timeout</c> header values.</param>
    /// <returns>The effective deadline, or the rejection.</returns>
    public DeadlineResolution Resolve(string method, StringValues grpcTimeout)
    {
        ArgumentNullException.ThrowIfNull(method);
        return Resolve(_options().Resolve(method), grpcTimeout, _timeProvider.GetUtcNow());
    }

    /// <summary>
    /// The rejection of a malformed <c>grpc-timeout</c> (<c>INVALID_ARGUMENT</c>, <c>malformed-grpc-timeout</c>), or null when the
    /// header values are absent or well-formed. The services' listener gate asks before grpc-dotnet parses the header
    /// itself (it answered <c>UNKNOWN</c> for <c>999999999H</c>, which overflows a TimeSpan).
    /// </summary>
    /// <param name="grpcTimeout">The raw header values.</param>
    public static MeshRejection? MalformedOrNull(StringValues grpcTimeout)
    {
        var raw = grpcTimeout.Count > 1 ? "," : grpcTimeout.Count == 1 ? grpcTimeout[0] : null;
        return GrpcTimeoutParser.Parse(raw, out _) == GrpcTimeoutParseResult.Malformed ? Malformed(grpcTimeout) : null;
    }

    private static MeshRejection Malformed(StringValues grpcTimeout) => new(
        StatusCode.InvalidArgument,
        MeshRejectReasons.MalformedGrpcTimeout,
        $"grpc-timeout {EchoedValue.Quote(grpcTimeout.ToString())} is malformed: expected 1 to 8 digits followed by one unit of H, M, S, m, u, n (for example 500m), sent once.");

    /// <summary>Resolves a deadline against one method's policy.</summary>
    /// <param name="policy">The method's policy.</param>
    /// <param name="grpcTimeout">The raw <c>grpc-timeout</c> header values (two values are as malformed as one bad one).</param>
    /// <param name="now">When the call arrived.</param>
    /// <returns>The effective deadline, or the rejection.</returns>
    public static DeadlineResolution Resolve(DeadlineOptions policy, StringValues grpcTimeout, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var raw = grpcTimeout.Count > 1 ? "," : grpcTimeout.Count == 1 ? grpcTimeout[0] : null;
        TimeSpan timeout;
        DeadlineSource source;
        switch (GrpcTimeoutParser.Parse(raw, out var parsed))
        {
            case GrpcTimeoutParseResult.Malformed:
                return new DeadlineResolution { Rejection = Malformed(grpcTimeout) };
            case GrpcTimeoutParseResult.NonPositive:
                return new DeadlineResolution { Rejection = DeadlineGuard.Exceeded($"grpc-timeout {EchoedValue.Quote(raw)} leaves no time: the deadline has already passed, so the call was not started") };
            case GrpcTimeoutParseResult.Absent:
                (timeout, source) = (policy.Default, DeadlineSource.Default);
                break;
            default:
                (timeout, source) = parsed > policy.Max ? (policy.Max, DeadlineSource.Clamped) : (parsed, DeadlineSource.Header);
                break;
        }

        return new DeadlineResolution { Deadline = now + timeout, Timeout = timeout, Source = source };
    }
}
