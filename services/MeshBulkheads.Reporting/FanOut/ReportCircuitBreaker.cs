using Grpc.Core;
using MeshBulkheads.Reporting.Payments;
using Polly;
using Polly.CircuitBreaker;

namespace MeshBulkheads.Reporting.FanOut;

/// <summary>
/// The circuit breaker around each report's fan-out: a Polly resilience pipeline (<see cref="PipelineName"/>) with one
/// strategy, a circuit breaker over <see cref="ReportFanOutResult"/> that samples REPORT outcomes
/// (<see cref="IsFailure"/>), configured by <see cref="ReportCircuitBreakerOptions"/> (<c>Reporting:ReportBreaker</c>).
/// </summary>
/// <remarks>
/// <para>
/// Why a second breaker: the payments breaker (<see cref="PaymentsCircuitBreaker"/>) samples attempts, and a report
/// fails when any one of its calls fails. With payments slow, most attempts still succeed (its ratio stays below the
/// threshold, so it never opens) while nearly every report fails: a report of n accounts completes with probability
/// pⁿ. Reporting then keeps spending payments' scarce capacity on calls whose reports cannot complete. This breaker
/// sees the report outcome itself and, once most reports fail on payments, refuses reports before any call.
/// </para>
/// <para>
/// What a sample is: a report that started fanning out. Reporting's own admission (the <c>reporting</c> bulkhead, the
/// request checks, the report's first <c>reporting-fanout</c> slot, a deadline too short for its first call) happens
/// before the pipeline runs, so those refusals are never samples — Polly counts every outcome it does not handle as a
/// success, and reporting's own sheds counted so would hide payments' failures (under payments latency most reports
/// are shed by the fan-out cap). Inside, a worker the cap has no room for does not fail the report (it goes on with
/// the workers it has), so a report inside fails only on payments or its deadline.
/// </para>
/// <para>
/// When open, Polly throws <see cref="BrokenCircuitException"/> before the fan-out starts; the report fails
/// <c>UNAVAILABLE</c> <c>downstream-circuit-open</c> with the remaining break as pushback
/// (<see cref="ReportFailure.ReportCircuitOpen"/>). One breaker per process, not per tenant: it counts only payments'
/// failures, which every tenant's reports share. Telemetry is Polly's (<c>AddResiliencePipeline</c> uses the process's
/// <c>TelemetryOptions</c>, as the payments breaker's handler does): meter <c>Polly</c>, counter
/// <c>resilience.polly.strategy.events</c> with <c>pipeline.name</c> <see cref="PipelineName"/> and <c>strategy.name</c>
/// <see cref="StrategyName"/>.
/// </para>
/// </remarks>
public static class ReportCircuitBreaker
{
    /// <summary>The pipeline's name and registry key (Polly's <c>pipeline.name</c>).</summary>
    public const string PipelineName = "report-breaker";

    /// <summary>The circuit breaker strategy's name (Polly's <c>strategy.name</c>).</summary>
    public const string StrategyName = "report-circuit-breaker";

    /// <summary>The event added to the current span when a report is refused because this breaker is open.</summary>
    public const string CircuitOpenEvent = "meshbulkheads.reporting.report_circuit_open";

    /// <summary>The span tag set with <see cref="CircuitOpenEvent"/>: the pushback sent, in milliseconds.</summary>
    public const string PushbackTag = "meshbulkheads.reporting.report_breaker.pushback_ms";

    /// <summary>Registers the pipeline; with <c>Enabled=false</c> it is empty (a pass-through).</summary>
    internal static IServiceCollection AddReportBreaker(this IServiceCollection services) =>
        // Polly's DI builder takes the process's TimeProvider (a test's FakeTimeProvider drives the breaker) and TelemetryOptions.
        services.AddResiliencePipeline<string, ReportFanOutResult>(PipelineName, static (pipeline, context) =>
        {
            var options = context.ServiceProvider.GetRequiredService<IOptions<ReportingOptions>>().Value.ReportBreaker;
            if (!options.Enabled)
            {
                return;
            }

            pipeline.AddCircuitBreaker(new CircuitBreakerStrategyOptions<ReportFanOutResult>
            {
                Name = StrategyName,
                FailureRatio = options.FailureRatio,
                MinimumThroughput = options.MinimumThroughput,
                SamplingDuration = options.SamplingDuration,
                BreakDuration = options.BreakDuration,
                ShouldHandle = static args => new ValueTask<bool>(args.Outcome.Result is { Cause: { } cause } && IsFailure(cause)),
            });
        });

    /// <summary>
    /// Whether the error that failed a report counts against reports: payments refused or was unreachable
    /// (<c>UNAVAILABLE</c>, <c>RESOURCE_EXHAUSTED</c>), the open payments breaker refused it, a call ran out of its deadline
    /// (<c>DEADLINE_EXCEEDED</c>), or too little of the caller's deadline was left for the next call
    /// (<see cref="DownstreamBudgetExhaustedException"/>).
    /// </summary>
    /// <remarks>
    /// <para>
    /// Not failures (Polly counts them as successes; it has no "not a sample"): <c>NOT_FOUND</c>, <c>INVALID_ARGUMENT</c> and
    /// every other status payments answers with (payments works; the request was wrong), the caller's own cancellation (an
    /// <see cref="OperationCanceledException"/>, never a result), and a shed by reporting's own fan-out cap (reporting's
    /// overload, with its own pushback; the fan-out never fails a report on it once started).
    /// </para>
    /// <para>
    /// The open payments breaker's refusal counts: counted as a success, a trial report it refused closed this breaker, and
    /// reports fanned out again as soon as the payments breaker let its one probe succeed (measured in <c>store-latency</c>:
    /// the waste came back). The price is coupling: a trial that meets the payments breaker still open costs one more
    /// break of this one before reports resume (at most one, since only trial reports then reach the payments breaker).
    /// </para>
    /// </remarks>
    public static bool IsFailure(Exception cause)
    {
        if (PaymentsCircuitBreaker.TryGetBrokenCircuit(cause, out _))
        {
            return true;
        }

        return cause switch
        {
            DownstreamBudgetExhaustedException => true,
            RpcException { StatusCode: StatusCode.Unavailable or StatusCode.ResourceExhausted or StatusCode.DeadlineExceeded } => true,
            _ => false,
        };
    }
}
