using Grpc.Core;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Contracts.Identity;
using MeshBulkheads.Contracts.Payments.V1;
using MeshBulkheads.ServiceDefaults.Faults;
using MeshBulkheads.Reporting.Payments;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;

namespace MeshBulkheads.Reporting.FanOut;

/// <summary>
/// Fetches every account's balance from payments with bounded parallelism per report and a
/// process-wide cap shared by all reports (the bulkhead <c>reporting-fanout</c>), inside the report circuit
/// breaker (<see cref="ReportCircuitBreaker"/>). All or nothing: the first failure cancels the report's remaining
/// calls and becomes the report's status.
/// </summary>
/// <remarks>
/// Each of a report's workers (at most <c>MaxParallelismPerReport</c>) holds one fan-out slot for all the calls it
/// makes. The first is taken before the breaker runs: a report the cap refuses is shed whole, before any call to
/// payments, and is not a sample. A further worker the cap has no room for (or whose wait outlasts the work left) does
/// not run, and the report goes on with fewer workers: a report that has started is never abandoned for reporting's
/// own overload, which would throw away the balances it already fetched from payments.
/// </remarks>
public sealed class ReportFanOut(
    PaymentsService.PaymentsServiceClient payments,
    IBulkheadProvider bulkheads,
    ResiliencePipelineProvider<string> pipelines,
    ReportingMetrics metrics,
    IOptions<ReportingOptions> options,
    TimeProvider timeProvider,
    ILogger<ReportFanOut> logger,
    FaultPipelines faults)
{
    private readonly Bulkhead _cap = bulkheads.Get(ReportingBulkheads.FanOut);
    private readonly ResiliencePipeline<ReportFanOutResult> _breaker = pipelines.GetPipeline<ReportFanOutResult>(ReportCircuitBreaker.PipelineName);

    /// <summary>The process-wide cap on downstream calls.</summary>
    public Bulkhead Cap => _cap;

    /// <summary>Balances in the order of <paramref name="accountIds"/>, or the report's failure as an <see cref="RpcException"/>.</summary>
    public async Task<GetBalanceResponse[]> FetchAsync(IReadOnlyList<string> accountIds, DownstreamCall call, CancellationToken callerToken)
    {
        var settings = options.Value;
        if (accountIds.Count == 0)
        {
            return [];
        }

        using var first = await AcquireFirstSlotAsync(accountIds, call, settings, callerToken);
        ReportFanOutResult result;
        try
        {
            result = await _breaker.ExecuteAsync(ct => FanOutAsync(accountIds, call, settings, ct), callerToken);
        }
        catch (BrokenCircuitException broken)
        {
            // The report breaker is open (or half-open with its trial report in flight): refused before any call.
            var refusal = ReportFailure.ReportCircuitOpen(broken, settings.ReportBreaker.BreakDuration);
            ReportingLog.ReportCircuitOpen(logger, accountIds.Count);
            PaymentsCircuitBreaker.MarkSpan(refusal.RetryAfter!.Value, ReportCircuitBreaker.CircuitOpenEvent, ReportCircuitBreaker.PushbackTag);
            throw refusal.ToRpcException();
        }

        if (result.Failure is { } failure)
        {
            LogAbandoned(accountIds.Count, result.Cause!, failure);
            throw failure;
        }

        return result.Balances!;
    }

    /// <summary>
    /// Reporting's own admission of a report to the fan-out, before the breaker: the first call's budget, then its
    /// first slot (none with the uncapped pitfall). A refusal fails the report with its own status.
    /// </summary>
    private async Task<BulkheadLease?> AcquireFirstSlotAsync(IReadOnlyList<string> accountIds, DownstreamCall call, ReportingOptions settings, CancellationToken callerToken)
    {
        try
        {
            // Checked before waiting, so a report that could never start does not take a queue slot.
            DownstreamDeadline(accountIds[0], call.Deadline, settings);
            return settings.Pitfalls.UncappedFanOut ? null : await AcquireSlotAsync(call, settings, callerToken);
        }
        catch (MeshRejectionException refused) when (!callerToken.IsCancellationRequested)
        {
            var failure = ReportFailure.From(accountIds[0], refused, settings.PaymentsBreaker.BreakDuration);
            LogAbandoned(accountIds.Count, refused, failure);
            throw failure;
        }
        catch (MeshRejectionException)
        {
            // The caller left while the report waited for its slot (a cancelled waiter is a rejected lease).
            callerToken.ThrowIfCancellationRequested();
            throw;
        }
    }

    /// <summary>The report's calls: workers sharing the accounts, the first on the report's first slot; the first failure wins.</summary>
    private async ValueTask<ReportFanOutResult> FanOutAsync(IReadOnlyList<string> accountIds, DownstreamCall call, ReportingOptions settings, CancellationToken callerToken)
    {
        var results = new GetBalanceResponse[accountIds.Count];
        using var report = CancellationTokenSource.CreateLinkedTokenSource(callerToken);
        // Cancelled when the last account has been taken: a worker still waiting for a slot gives up rather than delay the report.
        using var drained = CancellationTokenSource.CreateLinkedTokenSource(report.Token);
        RpcException? firstFailure = null;
        Exception? firstError = null;
        var next = -1;
        var uncapped = settings.Pitfalls.UncappedFanOut;

        async Task WorkerAsync(bool needsSlot)
        {
            BulkheadLease? slot = null;
            try
            {
                if (needsSlot)
                {
                    if (Volatile.Read(ref next) + 1 >= accountIds.Count)
                    {
                        return;
                    }

                    try
                    {
                        slot = await AcquireSlotAsync(call, settings, drained.Token);
                    }
                    catch (FanOutRejectedException)
                    {
                        // No room (or no time, or no work left): the report goes on with the workers it has.
                        return;
                    }
                }

                while (true)
                {
                    var index = Interlocked.Increment(ref next);
                    if (index >= accountIds.Count || report.IsCancellationRequested)
                    {
                        return;
                    }

                    if (index == accountIds.Count - 1)
                    {
                        await drained.CancelAsync();
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
            finally
            {
                slot?.Dispose();
            }
        }

        // The pitfall switch starts one worker per account: every call at once, no cap.
        var workers = uncapped ? accountIds.Count : Math.Min(settings.MaxParallelismPerReport, accountIds.Count);
        var tasks = new Task[workers];
        for (var i = 0; i < workers; i++)
        {
            // Worker 0 runs on the report's first slot (FetchAsync holds it until the report ends); the others take their own.
            tasks[i] = WorkerAsync(needsSlot: !uncapped && i > 0);
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
        return firstFailure is not null ? ReportFanOutResult.Failed(firstFailure, firstError!) : ReportFanOutResult.Completed(results);
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
        // Checked before every call: the wait for a slot and the worker's earlier calls spend the caller's deadline.
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
