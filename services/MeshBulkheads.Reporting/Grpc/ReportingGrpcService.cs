using Grpc.Core;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Grpc;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Contracts.Reporting.V1;
using MeshBulkheads.Reporting.FanOut;
using MeshBulkheads.ServiceDefaults.Grpc;
using MeshBulkheads.ServiceDefaults.Tenancy;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Reporting.Grpc;

/// <summary>BuildReport: validate, fan out to payments, sum. Reporting never reads payments' storage.</summary>
public sealed class ReportingGrpcService(ReportFanOut fanOut, IOptions<ReportingOptions> options, IOptions<BulkheadRoutingOptions> routing)
    : ReportingService.ReportingServiceBase
{
    public override async Task<BuildReportResponse> BuildReport(BuildReportRequest request, ServerCallContext context)
    {
        var tenant = TenantMetadata.RequireTenant(context);
        var criticality = ReadCriticality(context, routing.Value.DefaultCriticality);
        Validate(request, options.Value.MaxAccounts);

        // DeadlineInterceptor has made context.Deadline finite: the caller's grpc-timeout, or
        // BuildReport's default deadline when it sent none.
        var balances = await fanOut.FetchAsync(
            request.AccountIds, new DownstreamCall(tenant, criticality, context.Deadline), context.CancellationToken);

        var response = new BuildReportResponse();
        long total = 0;
        foreach (var balance in balances)
        {
            try
            {
                total = checked(total + balance.BalanceMinor);
            }
            catch (OverflowException)
            {
                throw GrpcErrors.FailedPrecondition(
                    $"The total of the balances overflows a 64-bit integer at account '{balance.AccountId}'. Request fewer accounts per report.");
            }

            response.Accounts.Add(new AccountSummary
            {
                AccountId = balance.AccountId,
                BalanceMinor = balance.BalanceMinor,
                PaymentCount = balance.PaymentCount,
                Currency = balance.Currency,
            });
        }

        response.TotalMinor = total;
        return response;
    }

    /// <summary>1..max distinct, non-empty ids; each error names the offending position.</summary>
    public static void Validate(BuildReportRequest request, int maxAccounts)
    {
        var ids = request.AccountIds;
        if (ids.Count == 0)
        {
            throw GrpcErrors.InvalidArgument($"account_ids is empty; give 1 to {maxAccounts} account ids.");
        }

        if (ids.Count > maxAccounts)
        {
            throw GrpcErrors.InvalidArgument($"account_ids has {ids.Count} ids; at most {maxAccounts} are allowed per report. Split the report.");
        }

        var seen = new Dictionary<string, int>(ids.Count, StringComparer.Ordinal);
        for (var i = 0; i < ids.Count; i++)
        {
            if (string.IsNullOrEmpty(ids[i]))
            {
                throw GrpcErrors.InvalidArgument($"account_ids[{i}] is empty; every account id must be non-empty.");
            }

            if (!seen.TryAdd(ids[i], i))
            {
                throw GrpcErrors.InvalidArgument(
                    $"account_ids[{i}] '{ids[i]}' duplicates account_ids[{seen[ids[i]]}]; list each account once.");
            }
        }
    }

    /// <summary>
    /// Missing → the library's default (<c>Bulkheads:DefaultCriticality</c>, the same the interceptor in front of
    /// BuildReport used); anything but <c>critical</c>/<c>sheddable</c> → INVALID_ARGUMENT, since it is forwarded.
    /// </summary>
    private static BulkheadCriticality ReadCriticality(ServerCallContext context, BulkheadCriticality whenMissing)
    {
        var value = context.RequestHeaders.GetValue(MeshMetadata.Criticality);
        if (string.IsNullOrEmpty(value))
        {
            return whenMissing;
        }

        return CriticalityHeader.TryParse(value, out var criticality)
            ? criticality
            : throw GrpcErrors.InvalidArgument(
                $"'{MeshMetadata.Criticality}' must be '{CriticalityHeader.Critical}' or '{CriticalityHeader.Sheddable}'; got '{value}'.");
    }
}
