using System.ComponentModel.DataAnnotations;

namespace MeshBulkheads.Reporting.Payments;

/// <summary>
/// The circuit breaker on reporting's payments client, section <c>Reporting:PaymentsBreaker</c>
/// (<see cref="PaymentsCircuitBreaker"/>). It opens when at least <see cref="FailureRatio"/> of at least
/// <see cref="MinimumThroughput"/> sampled attempts within <see cref="SamplingDuration"/> failed, stays open for
/// <see cref="BreakDuration"/>, then lets one probe through.
/// </summary>
/// <remarks>
/// The defaults (half of at least 20 attempts in 5 s, a 3 s break) are chosen so that one payments briefly shedding
/// does not become a reporting outage: a few shed calls are absorbed by the retry policy above the breaker
/// (<see cref="PaymentsClientConfig"/>) and never reach half of 20 attempts; a breaker that opened on them would turn
/// a moment of overload into every report failing for the whole break. It opens only when most of payments is
/// refusing for seconds, and then the break is short (one probe every 3 s), so reports resume about as soon as
/// payments does. Each gRPC attempt, a retry included, is one sample: retries run above the breaker.
/// </remarks>
public sealed class PaymentsCircuitBreakerOptions
{
    /// <summary>Whether the breaker is on. The default value is true; false removes it (the chaos experiments' negative control).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The share of sampled attempts that must have failed for the breaker to open. The default value is 0.5;
    /// range 0.01 to 1. Only transport failures and Trailers-Only <c>UNAVAILABLE</c>/<c>RESOURCE_EXHAUSTED</c> count
    /// as failures (<see cref="PaymentsCircuitBreaker.IsFailure"/>).
    /// </summary>
    [Range(0.01, 1.0)]
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>
    /// The fewest attempts within <see cref="SamplingDuration"/> before the ratio is looked at. The default value is
    /// 20; range 2 to 100,000. Below it the breaker never opens, however many of them failed.
    /// </summary>
    [Range(2, 100_000)]
    public int MinimumThroughput { get; set; } = 20;

    /// <summary>
    /// The window over which attempts are counted. The default value is 5 seconds; range 0.5 seconds to 10 minutes.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:10:00")]
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long the breaker stays open before one probe is let through (half-open): success closes it, failure opens
    /// it for another break. The default value is 3 seconds; range 0.5 seconds to 5 minutes. It also bounds the
    /// <c>grpc-retry-pushback-ms</c> of a report refused while open.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:05:00")]
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(3);
}
