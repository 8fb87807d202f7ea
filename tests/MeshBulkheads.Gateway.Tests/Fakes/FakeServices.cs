using MeshBulkheads.Contracts.Render.V1;
using MeshBulkheads.Contracts.Reporting.V1;

namespace MeshBulkheads.Gateway.Tests.Fakes;

/// <summary>Payments fake: echoes the account id, so a test can tell its own call apart.</summary>
internal sealed class FakePaymentsService(FakeBackend.Holder holder) : PaymentsService.PaymentsServiceBase
{
    public override async Task<ChargeResponse> Charge(ChargeRequest request, ServerCallContext context)
    {
        await holder.Backend.RecordAsync(nameof(Charge), request, context);
        return new ChargeResponse { PaymentId = "pay-" + request.IdempotencyKey, BalanceMinor = request.AmountMinor };
    }

    public override async Task<GetBalanceResponse> GetBalance(GetBalanceRequest request, ServerCallContext context)
    {
        await holder.Backend.RecordAsync(nameof(GetBalance), request, context);
        return new GetBalanceResponse { AccountId = request.AccountId, BalanceMinor = 42, Currency = "USD" };
    }

    public override async Task<ListPaymentsResponse> ListPayments(ListPaymentsRequest request, ServerCallContext context)
    {
        await holder.Backend.RecordAsync(nameof(ListPayments), request, context);
        return new ListPaymentsResponse();
    }
}

internal sealed class FakeReportingService(FakeBackend.Holder holder) : ReportingService.ReportingServiceBase
{
    public override async Task<BuildReportResponse> BuildReport(BuildReportRequest request, ServerCallContext context)
    {
        await holder.Backend.RecordAsync(nameof(BuildReport), request, context);
        var response = new BuildReportResponse();
        response.Accounts.AddRange(request.AccountIds.Select(id => new AccountSummary { AccountId = id }));
        return response;
    }
}

internal sealed class FakeRenderService(FakeBackend.Holder holder) : RenderService.RenderServiceBase
{
    public override async Task<RenderResponse> Render(RenderRequest request, ServerCallContext context)
    {
        await holder.Backend.RecordAsync(nameof(Render), request, context);
        return new RenderResponse { Sha256 = $"{request.Width}x{request.Height}x{request.Iterations}" };
    }
}
