using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace MeshBulkheads.Gateway.Forwarding;

/// <summary>
/// Passive health (<c>HealthCheck:Passive:Policy = MeshTransportFailureRate</c>): YARP's
/// <c>TransportFailureRate</c> policy, fed only failures that say something about the destination.
/// </summary>
/// <remarks>
/// Left out, on every cluster: a response over one of the gateway's limits (e.g. response headers over
/// <c>MaxResponseHeadersLength</c> — a caller can provoke one with a request whose error echoes it), and
/// calls the gateway cut short itself (its deadline, the caller leaving: YARP already skips those).
/// A cluster with a single destination is, in addition, never ejected by anything but a connection
/// failure (refused, reset before a response, name resolution): ejecting the only destination turns
/// every tenant's calls into <c>no-healthy-backend</c> for <c>ReactivationPeriod</c>, so only a
/// destination that cannot be reached at all may be taken out. The detection window is set equal to
/// <c>ReactivationPeriod</c> (10 s) in <c>GatewayApp</c>: YARP raises a shorter reactivation period to
/// the window (60 s by default), which silently turned 10 s into 60 s.
/// </remarks>
public sealed class MeshPassiveHealthPolicy(IServiceProvider services) : IPassiveHealthCheckPolicy
{
    /// <summary>The policy name clusters refer to.</summary>
    public const string PolicyName = "MeshTransportFailureRate";

    private IPassiveHealthCheckPolicy? _inner;

    /// <inheritdoc/>
    public string Name => PolicyName;

    /// <inheritdoc/>
    public void RequestProxied(HttpContext context, ClusterState cluster, DestinationState destination)
    {
        if (context.Features.Get<IForwarderErrorFeature>() is { } error && !Counts(error, cluster))
        {
            return;
        }

        Inner.RequestProxied(context, cluster, destination);
    }

    /// <summary>Whether a failed call counts against the destination's health.</summary>
    public static bool Counts(IForwarderErrorFeature error, ClusterState cluster)
    {
        var http = error.Exception as HttpRequestException ?? error.Exception?.InnerException as HttpRequestException;
        if (http?.HttpRequestError == HttpRequestError.ConfigurationLimitExceeded)
        {
            return false;
        }

        if (cluster.DestinationsState.AllDestinations.Count > 1)
        {
            return true;
        }

        return error.Error == ForwarderError.Request
            && http?.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError;
    }

    // Resolved on first use, not in the constructor: the built-in policy is registered under the same
    // service type, so resolving the list while this singleton is being created would recurse.
    private IPassiveHealthCheckPolicy Inner => _inner ??= services.GetServices<IPassiveHealthCheckPolicy>()
        .FirstOrDefault(p => p.Name == HealthCheckConstants.PassivePolicy.TransportFailureRate)
        ?? throw new InvalidOperationException($"YARP's '{HealthCheckConstants.PassivePolicy.TransportFailureRate}' passive policy is not registered.");
}
