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

    /// <summary>
    /// Sends the call and returns its response. <paramref name="charge"/> is the call's one charge
    /// request (<see cref="Charge"/>), sent again unchanged by every retry so its idempotency key
    /// makes the retry safe; null for the other methods.
    /// </summary>
    public static async Task<object> SendAsync(StreamSpec spec, CallInvoker invoker, long sequence, ChargeRequest? charge, CallOptions options) => spec.Method switch
    {
        MeshMethod.GetBalance => await new PaymentsService.PaymentsServiceClient(invoker)
            .GetBalanceAsync(new GetBalanceRequest { AccountId = Account(sequence) }, options).ResponseAsync.ConfigureAwait(false),
        MeshMethod.Charge => await new PaymentsService.PaymentsServiceClient(invoker)
            .ChargeAsync(charge ?? throw new ArgumentNullException(nameof(charge)), options).ResponseAsync.ConfigureAwait(false),
        MeshMethod.ListPayments => await new PaymentsService.PaymentsServiceClient(invoker)
            .ListPaymentsAsync(new ListPaymentsRequest { AccountId = Account(sequence), PageSize = 20 }, options).ResponseAsync.ConfigureAwait(false),
        MeshMethod.BuildReport => await new ReportingService.ReportingServiceClient(invoker)
            .BuildReportAsync(Report(spec, sequence), options).ResponseAsync.ConfigureAwait(false),
        MeshMethod.Render => await new RenderService.RenderServiceClient(invoker)
            .RenderAsync(new RenderRequest { Width = spec.RenderSize, Height = spec.RenderSize, Iterations = spec.RenderIterations }, options).ResponseAsync.ConfigureAwait(false),
        _ => throw new ArgumentOutOfRangeException(nameof(spec)),
    };

    /// <summary>
    /// The n-th charge of a stream: 1.00 USD on the next demo account, with an idempotency key unique to
    /// the run, the stream and the call (<c>run-stream-sequence</c>), so retries of one call replay it
    /// instead of charging twice.
    /// </summary>
    public static ChargeRequest Charge(string runId, int streamIndex, long sequence) => new()
    {
        AccountId = Account(sequence),
        AmountMinor = 100,
        Currency = "USD",
        IdempotencyKey = string.Create(CultureInfo.InvariantCulture, $"{runId}-{streamIndex}-{sequence}"),
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
