using MeshBulkheads.Concurrency.Rejections;
using Grpc.Core;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Grpc;
using MeshBulkheads.Contracts.Identity;
using MeshBulkheads.Contracts.Reporting.V1;
using MeshBulkheads.Reporting.FanOut;
using MeshBulkheads.ServiceDefaults.Grpc;
using MeshBulkheads.ServiceDefaults.Tenancy;

namespace MeshBulkheads.Reporting.Grpc;

/// <summary>BuildReport: validate, fan out to payments, sum. Reporting never reads payments' storage.</summary>
public sealed class ReportingGrpcService(ReportFanOut fanOut, IOptions<ReportingOptions> options, IOptions<CriticalityOptions> criticalityOptions)
    : ReportingService.ReportingServiceBase
{
    /// <summary>The resolved method, for the criticality table (a handler knows which method it is).</summary>
    private const string BuildReportMethod = ReportingBulkheads.MethodPrefix + nameof(BuildReport);

    public override async Task<BuildReportResponse> BuildReport(BuildReportRequest request, ServerCallContext context)
    {
        var tenant = TenantMetadata.RequireTenant(context);
        // BuildReportValidationInterceptor has already checked the ids and the criticality header, before
        // the reporting permit was taken; checked again here so the handler is correct on its own (cheap:
        // at most Reporting:MaxAccounts ids).
        BuildReportValidation.Validate(request, options.Value.MaxAccounts);
        var criticality = BulkheadInterceptor.ReadCriticality(context.RequestHeaders, criticalityOptions.Value.Resolve(BuildReportMethod));

        // DeadlineInterceptor has made context.Deadline finite: the caller's grpc-timeout, or
        // BuildReport's default deadline when it sent none.
        var balances = await fanOut.FetchAsync(
            request.AccountIds, new DownstreamCall(tenant, criticality, DeadlineGuard.FromGrpc(context.Deadline) ?? DateTimeOffset.MaxValue, context.RequestHeaders.GetValue(MeshIdentityToken.DelegationHeader)), context.CancellationToken);

        var response = new BuildReportResponse();
        // Minor units of different currencies do not add up: one total per currency, ordered by code. Summed in
        // 128 bits and range-checked once at the end: a running sum may pass long.MaxValue on the way to a total that
        // fits (balances of either sign), which is no reason to refuse the report.
        var totals = new SortedDictionary<string, Int128>(StringComparer.Ordinal);
        var firstAccount = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var balance in balances)
        {
            totals.TryGetValue(balance.Currency, out var total);
            totals[balance.Currency] = total + balance.BalanceMinor;
            firstAccount.TryAdd(balance.Currency, balance.AccountId);
            response.Accounts.Add(new AccountSummary
            {
                AccountId = balance.AccountId,
                BalanceMinor = balance.BalanceMinor,
                PaymentCount = balance.PaymentCount,
                Currency = balance.Currency,
            });
        }

        foreach (var (currency, total) in totals)
        {
            if (total > long.MaxValue || total < long.MinValue)
            {
                throw GrpcErrors.FailedPrecondition(
                    $"The {EchoedValue.Quote(currency)} total of the balances overflows a 64-bit integer ({total}, first account {EchoedValue.Quote(firstAccount[currency])}). Request fewer accounts per report.");
            }

            response.Totals.Add(new CurrencyTotal { Currency = currency, TotalMinor = (long)total });
        }

        // The deprecated single total: only meaningful when there is one currency.
        response.TotalMinor = totals.Count == 1 ? response.Totals[0].TotalMinor : 0;
        return response;
    }

    /// <summary>The request checks (<see cref="BuildReportValidation.Validate"/>).</summary>
    public static void Validate(BuildReportRequest request, int maxAccounts) => BuildReportValidation.Validate(request, maxAccounts);
}
