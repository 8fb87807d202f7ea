using MeshBulkheads.ServiceDefaults.Health;
using Yarp.ReverseProxy.Health;

namespace MeshBulkheads.Gateway.Forwarding.Internal;

/// <summary>
/// The gateway is not ready before YARP's first round of active health probes has run
/// (<see cref="IActiveHealthCheckMonitor.InitialProbeCompleted"/>, which YARP provides for this). Until then every
/// destination's active health is Unknown, and <c>AvailableDestinationsPolicy: HealthyAndUnknown</c> sends a new
/// gateway's first calls to destinations it has not probed, including one that is down. The round is bounded by each
/// cluster's probe timeout (2 s as shipped); a cluster without active checks adds nothing.
/// </summary>
internal sealed class InitialHealthProbeWarmup(IActiveHealthCheckMonitor monitor, TimeProvider timeProvider) : IWarmup
{
    /// <summary>How often the monitor's flag is read while the first round runs.</summary>
    internal static TimeSpan PollInterval { get; } = TimeSpan.FromMilliseconds(20);

    public async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        while (!monitor.InitialProbeCompleted)
        {
            await Task.Delay(PollInterval, timeProvider, cancellationToken);
        }
    }
}
