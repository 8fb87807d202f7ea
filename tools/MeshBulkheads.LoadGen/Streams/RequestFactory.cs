using System.Globalization;
using Grpc.Core;
using MeshBulkheads.Contracts.Payments.V1;
using MeshBulkheads.Contracts.Render.V1;
using MeshBulkheads.Contracts.Reporting.V1;

namespace MeshBulkheads.LoadGen.Streams;

/// <summary>Builds the n-th request of a stream and sends it on a channel.</summary>
internal static class RequestFactory
{
    private const int DemoAccounts = 100;

    public static Task SendAsync(StreamSpec spec, CallInvoker invoker, long sequence, CallOptions options) => spec.Method switch
    {
        MeshMethod.GetBalance => new PaymentsService.PaymentsServiceClient(invoker)
            .GetBalanceAsync(new GetBalanceRequest { AccountId = Account(sequence) }, options).ResponseAsync,
        MeshMethod.Charge => new PaymentsService.PaymentsServiceClient(invoker)
            .ChargeAsync(new ChargeRequest
            {
                AccountId = Account(sequence),
                AmountMinor = 100,
                Currency = "USD",
                IdempotencyKey = Guid.NewGuid().ToString("N"),
            }, options).ResponseAsync,
        MeshMethod.ListPayments => new PaymentsService.PaymentsServiceClient(invoker)
            .ListPaymentsAsync(new ListPaymentsRequest { AccountId = Account(sequence), PageSize = 20 }, options).ResponseAsync,
        MeshMethod.BuildReport => new ReportingService.ReportingServiceClient(invoker)
            .BuildReportAsync(Report(spec, sequence), options).ResponseAsync,
        MeshMethod.Render => new RenderService.RenderServiceClient(invoker)
            .RenderAsync(new RenderRequest { Width = spec.RenderSize, Height = spec.RenderSize, Iterations = spec.RenderIterations }, options).ResponseAsync,
        _ => throw new ArgumentOutOfRangeException(nameof(spec)),
    };

    /// <summary>The seeded demo accounts, acct-0001 … acct-0100, in turn.</summary>
    public static string Account(long sequence) =>
        "acct-" + ((sequence % DemoAccounts) + 1).ToString("0000", CultureInfo.InvariantCulture);

    private static BuildReportRequest Report(StreamSpec spec, long sequence)
    {
        var request = new BuildReportRequest();
        for (var k = 0; k < spec.Accounts; k++)
        {
            // Stride 7 spreads a report over the accounts (and payments' per-account mailboxes).
            request.AccountIds.Add(Account(sequence + (k * 7L)));
        }

        return request;
    }
}
