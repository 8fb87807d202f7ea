using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Deadlines;
using static MeshBulkheads.Reporting.ReportingBulkheads;

namespace MeshBulkheads.Reporting;

/// <summary>
/// Start-up check: a BuildReport with the default deadline must be able to reach payments. The worst
/// case before a downstream call starts is the longest wait in both queues; after it, the call still
/// needs the safety margin plus the minimum budget for every hop below reporting.
/// </summary>
/// <remarks>
/// Bulkheads:reporting:MaxQueueTime + Bulkheads:reporting-fanout:MaxQueueTime + Reporting:DeadlineSafetyMargin
/// + Reporting:MinDownstreamBudget × <see cref="DownstreamCallDepth"/> &lt; BuildReport's default deadline.
/// Otherwise a caller that sends no <c>grpc-timeout</c> could be failed with <c>downstream-budget-exhausted</c>
/// by configuration alone.
/// </remarks>
public sealed class ReportingDeadlineBudgetValidation(
    IOptions<ReportingOptions> reporting,
    IOptionsMonitor<BulkheadOptions> bulkheads) : IValidateOptions<DeadlinePolicyOptions>
{
    /// <summary>gRPC hops below reporting that each need the minimum budget: payments (which calls only its database).</summary>
    public const int DownstreamCallDepth = 1;

    public ValidateOptionsResult Validate(string? name, DeadlinePolicyOptions options)
    {
        var settings = reporting.Value;
        var policy = options.Resolve(MethodPrefix + "BuildReport");
        var reportQueue = bulkheads.Get(Reports).MaxQueueTime;
        var fanOutQueue = bulkheads.Get(ReportingBulkheads.FanOut).MaxQueueTime;
        var needed = reportQueue + fanOutQueue + settings.DeadlineSafetyMargin + (settings.MinDownstreamBudget * DownstreamCallDepth);
        return needed < policy.Default
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"BuildReport's default deadline ({policy.Default}, Deadlines:Methods:{MethodPrefix}:Default) must exceed " +
                $"Bulkheads:{Reports}:MaxQueueTime ({reportQueue}) + Bulkheads:{ReportingBulkheads.FanOut}:MaxQueueTime ({fanOutQueue}) + " +
                $"Reporting:DeadlineSafetyMargin ({settings.DeadlineSafetyMargin}) + Reporting:MinDownstreamBudget ({settings.MinDownstreamBudget}) × call depth {DownstreamCallDepth} = {needed}; " +
                "otherwise a report without grpc-timeout may never reach payments. Lower those settings or raise the default deadline.");
    }
}
