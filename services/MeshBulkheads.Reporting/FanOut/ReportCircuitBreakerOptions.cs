using System.ComponentModel.DataAnnotations;

namespace MeshBulkheads.Reporting.FanOut;

/// <summary>
/// The circuit breaker around each report's fan-out, section <c>Reporting:ReportBreaker</c>
/// (<see cref="ReportCircuitBreaker"/>). It opens when at least <see cref="FailureRatio"/> of at least
/// <see cref="MinimumThroughput"/> reports within <see cref="SamplingDuration"/> failed on payments, stays open for
/// <see cref="BreakDuration"/>, then lets one trial report through.
/// </summary>
/// <remarks>
/// One sample is one report that started fanning out, not one payments attempt (that is the payments breaker,
/// <c>Reporting:PaymentsBreaker</c>): a report of 20 accounts is 20 or more attempts but one sample. The defaults (half of
/// at least 10 reports in 5 s, a 3 s break) open it only when most reports die on payments for seconds — then every report
/// it lets start would spend payments' capacity and still fail — and let a recovered payments get reports back within
/// one break and one trial report.
/// </remarks>
public sealed class ReportCircuitBreakerOptions
{
    /// <summary>Whether the breaker is on. The default value is true; false removes it (the chaos experiments' negative control).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The share of sampled reports that must have failed for the breaker to open. The default value is 0.5; range 0.01
    /// to 1. Only a report that failed on payments counts as a failure (<see cref="ReportCircuitBreaker.IsFailure"/>).
    /// </summary>
    [Range(0.01, 1.0)]
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>
    /// The fewest sampled reports within <see cref="SamplingDuration"/> before the ratio is looked at. The default value
    /// is 10; range 2 to 100,000. Below it the breaker never opens, however many of them failed.
    /// </summary>
    [Range(2, 100_000)]
    public int MinimumThroughput { get; set; } = 10;

    /// <summary>
    /// The window over which reports are counted. The default value is 5 seconds; range 0.5 seconds to 10 minutes.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:10:00")]
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long the breaker stays open before one trial report is let through (half-open): a report that does not fail
    /// on payments closes it, one that does opens it for another break. The default value is 3 seconds; range 0.5
    /// seconds to 5 minutes. It also bounds the <c>grpc-retry-pushback-ms</c> of a report refused while open.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:05:00")]
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(3);
}
