using Grpc.Core;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Contracts.Identity;
using MeshBulkheads.Contracts.Payments.V1;
using MeshBulkheads.ServiceDefaults.Faults;
using MeshBulkheads.Reporting.Payments;

namespace MeshBulkheads.Reporting.FanOut;

/// <summary>
/// Fetches every account's balance from payments with bounded parallelism per report and a
/// process-wide cap shared by all reports (the bulkhead <c>reporting-fanout</c>). All or nothing: the
/// first failure cancels the report's remaining calls and becomes the report's status.
/// </summary>
public sealed class ReportFanOut(
    PaymentsService.PaymentsServiceClient payments,
    IBulkheadProvider bulkheads,
    ReportingMetrics metrics,
    IOptions<ReportingOptions> options,
    TimeProvider timeProvider,
    ILogger<ReportFanOut> logger,
    FaultPipelines faults)
{
    private readonly Bulkhead _cap = bulkheads.Get(ReportingBulkheads.FanOut);

    /// <summary>The process-wide cap on downstream calls.</summary>
    public Bulkhead Cap => _cap;

    /// <summary>Balances in the order of <paramref name="accountIds"/>, or the report's failure as an <see cref="RpcException"/>.</summary>
    public async Task<GetBalanceResponse[]> FetchAsync(IReadOnlyList<string> accountIds, DownstreamCall call, CancellationToken callerToken)
    {
        var settings = options.Value;
        var results = new GetBalanceResponse[accountIds.Count];
        using var report = CancellationTokenSource.CreateLinkedTokenSource(callerToken);
        RpcException? firstFailure = null;
        Exception? firstError = null;
        var next = -1;

        async Task WorkerAsync()
        {
            while (true)
            {
                var index = Interlocked.Increment(ref next);
                if (index >= accountIds.Count || report.IsCancellationRequested)
                {
                    return;
                }

                try
                {
                    results[index] = await CallAsync(accountIds[index], call, settings, report.Token);
                }
                catch (Exception ex) when (!callerToken.IsCancellationRequested)
                {
                    // Only the first failure counts; the ones it causes (cancelled siblings) do not.
                    if (Interlocked.CompareExchange(ref firstFailure, ReportFailure.From(accountIds[index], ex, settings.PaymentsBreaker.BreakDuration), null) is null)
                    {
                        firstError = ex;
                        await report.CancelAsync();
                    }

                    return;
                }
            }
        }

        // The pitfall switch starts one worker per account: every call at once, no cap.
        var workers = settings.Pitfalls.UncappedFanOut ? accountIds.Count : Math.Min(settings.MaxParallelismPerReport, accountIds.Count);
        var tasks = new Task[workers];
        for (var i = 0; i < workers; i++)
        {
            tasks[i] = WorkerAsync();
        }

        try
        {
            await Task.WhenAll(tasks);
        }
        catch when (callerToken.IsCancellationRequested)
        {
            // The caller left; its downstream calls were cancelled through the linked token.
        }

        callerToken.ThrowIfCancellationRequested();
        if (firstFailure is not null)
        {
            LogAbandoned(accountIds.Count, firstError!, firstFailure);
            throw firstFailure;
        }

        return results;
    }

    private void LogAbandoned(int accounts, Exception error, RpcException failure)
    {
        if (PaymentsCircuitBreaker.TryGetBrokenCircuit(error, out var broken))
        {
            // Polly logs and counts the breaker's transitions; one Debug line per refused report, and the span is marked.
            ReportingLog.DownstreamCircuitOpen(logger, accounts);
            PaymentsCircuitBreaker.MarkSpan(PaymentsCircuitBreaker.Pushback(broken, options.Value.PaymentsBreaker.BreakDuration));
            return;
        }

        switch (error)
        {
            case FanOutRejectedException:
                ReportingLog.ReportShed(logger, accounts, _cap.Name, failure.StatusCode.ToString());
                break;
            case DownstreamBudgetExhaustedException:
                ReportingLog.DownstreamBudgetExhausted(logger, accounts);
                break;
            case RpcException downstream:
                ReportingLog.DownstreamCallFailed(logger, accounts, downstream.StatusCode.ToString());
                break;
            default:
                ReportingLog.ReportFailed(logger, accounts, error);
                break;
        }
    }

    // The method reporting's fault point and payments' token name: from the contract, not a second spelling.
    private static readonly string GetBalancePath = $"/{PaymentsService.Descriptor.FullName}/{nameof(PaymentsService.PaymentsServiceClient.GetBalance)}";

    private async Task<GetBalanceResponse> CallAsync(string accountId, DownstreamCall call, ReportingOptions settings, CancellationToken cancellationToken)
    {
        // Checked before waiting, so a call that could never start does not take a queue slot.
        DownstreamDeadline(accountId, call.Deadline, settings);
        using var slot = settings.Pitfalls.UncappedFanOut ? null : await AcquireSlotAsync(call, settings, cancellationToken);

        // Checked again after the wait for a slot: the wait itself spends the caller's deadline.
        var deadline = DownstreamDeadline(accountId, call.Deadline, settings);
        var headers = new Metadata
        {
            { MeshMetadata.TenantId, call.TenantId },
            { MeshMetadata.Criticality, CriticalityHeader.ToValue(call.Criticality) },
        };
        if (call.Delegation is { } delegation)
        {
            headers.Add(MeshIdentityToken.Header, delegation);
        }

        metrics.CallStarted();
        try
        {
            // The payments-client fault point (docs/faults.md): a slow or failing payments as reporting sees it.
            await faults.InjectAsync(FaultTargets.PaymentsClient, GetBalancePath, cancellationToken);
            // The deadline is set explicitly on every call (not left to context propagation) so the
            // safety margin applies; the report's token cancels it on the first failure or when the caller leaves.
            return await payments.GetBalanceAsync(
                new GetBalanceRequest { AccountId = accountId }, headers, DeadlineGuard.ToGrpc(deadline), cancellationToken);
        }
        finally
        {
            metrics.CallEnded();
        }
    }

    private async Task<BulkheadLease> AcquireSlotAsync(DownstreamCall call, ReportingOptions settings, CancellationToken cancellationToken)
    {
        // The bulkhead's deadline is the latest moment a call may start and still get the minimum
        // budget: deadline-aware admission rejects at once when the expected wait is longer, and a
        // waiter is removed when that moment passes.
        var latestStart = call.Deadline - settings.DeadlineSafetyMargin - settings.MinDownstreamBudget;
        var request = new BulkheadRequest(latestStart, call.TenantId, call.Criticality);
        var lease = await _cap.AcquireAsync(request, cancellationToken);
        if (!lease.IsAcquired)
        {
            throw new FanOutRejectedException(BulkheadRejectionMapper.ToRejection(lease, _cap.Name));
        }

        return lease;
    }

    /// <summary>The downstream deadline (caller's deadline − margin), or a budget failure below the minimum.</summary>
    private DateTimeOffset DownstreamDeadline(string accountId, DateTimeOffset callerDeadline, ReportingOptions settings)
    {
        var deadline = callerDeadline - settings.DeadlineSafetyMargin;
        var budget = DeadlineGuard.Remaining(deadline, timeProvider);
        if (budget < settings.MinDownstreamBudget)
        {
            throw new DownstreamBudgetExhaustedException(accountId, budget, settings.MinDownstreamBudget);
        }

        return deadline;
    }
}
