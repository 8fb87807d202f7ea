using MeshBulkheads.Contracts.Reporting.V1;
using MeshBulkheads.Reporting.Tests.Fakes;
using Microsoft.AspNetCore.Builder;

namespace MeshBulkheads.Reporting.Tests;

/// <summary>A real reporting host wired to a fake payments server, and a client for it.</summary>
internal sealed class ReportingTestHost : IAsyncDisposable
{
    private ReportingTestHost(FakePaymentsServer payments, KestrelHost host)
    {
        Payments = payments;
        Host = host;
        Client = new ReportingService.ReportingServiceClient(host.CreateChannel());
    }

    public FakePaymentsServer Payments { get; }

    public FakePaymentsService Fake => Payments.Service;

    public KestrelHost Host { get; }

    public ReportingService.ReportingServiceClient Client { get; }

    public static async Task<ReportingTestHost> StartAsync(Dictionary<string, string?>? configuration = null, Action<WebApplicationBuilder>? configure = null)
    {
        var payments = await FakePaymentsServer.StartAsync();
        var settings = new Dictionary<string, string?>(configuration ?? [])
        {
            ["Reporting:PaymentsAddress"] = payments.Address.ToString(),
        };
        var host = await KestrelHost.StartAsync(ReportingApp.Build, settings, configure);
        return new ReportingTestHost(payments, host);
    }

    public static Metadata Tenant(string tenant = "acme", string? criticality = null)
    {
        var headers = new Metadata { { "x-tenant-id", tenant } };
        if (criticality is not null)
        {
            headers.Add("x-mesh-criticality", criticality);
        }

        return headers;
    }

    /// <summary>Reporting's own 30 s default, but every downstream call needs at least 20 s: a call with 10 s left cannot fan out.</summary>
    public static Dictionary<string, string?> MinimumBudgetAboveRemaining() => new()
    {
        ["Reporting:MinDownstreamBudget"] = "00:00:20",
        ["Deadlines:Methods:/meshbulkheads.reporting.v1.ReportingService/:Default"] = "00:00:30",
    };

    /// <summary>
    /// On a host started with <see cref="MinimumBudgetAboveRemaining"/>: a one-account report with 10 s left,
    /// which must fail before any downstream call; returns its error.
    /// </summary>
    public Task<RpcException> BuildReportBelowMinimumBudgetAsync()
    {
        Fake.AddAccounts(1);
        return Assert.ThrowsAsync<RpcException>(() => BuildReport(Request("acct-0001"), deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync);
    }

    public static BuildReportRequest Request(params string[] accountIds)
    {
        var request = new BuildReportRequest();
        request.AccountIds.Add(accountIds);
        return request;
    }

    /// <summary>Calls BuildReport, cancelled with the test.</summary>
    public AsyncUnaryCall<BuildReportResponse> BuildReport(BuildReportRequest request, Metadata? headers = null, DateTime? deadline = null) =>
        Client.BuildReportAsync(request, headers ?? Tenant(), deadline, TestContext.Current.CancellationToken);

    /// <summary>Sends <paramref name="count"/> reports of <paramref name="accountIds"/> at once, cancelled with the test.</summary>
    public Task<BuildReportResponse>[] BuildReports(int count, params string[] accountIds) =>
        [.. Enumerable.Range(0, count).Select(_ => BuildReport(Request(accountIds)).ResponseAsync)];

    /// <summary>Calls BuildReport with the caller's own cancellation.</summary>
    public AsyncUnaryCall<BuildReportResponse> BuildReportCancellable(BuildReportRequest request, CancellationToken cancellationToken) =>
        Client.BuildReportAsync(request, Tenant(), cancellationToken: cancellationToken);

    public async ValueTask DisposeAsync()
    {
        Fake.Gate?.TrySetResult();
        await Host.DisposeAsync();
        await Payments.DisposeAsync();
    }
}
