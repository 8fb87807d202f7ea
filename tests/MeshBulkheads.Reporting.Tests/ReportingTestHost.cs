using Grpc.Core;
using MeshBulkheads.Contracts.Reporting.V1;
using MeshBulkheads.Reporting.Tests.Fakes;
using MeshBulkheads.Testing;

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

    public static async Task<ReportingTestHost> StartAsync(Dictionary<string, string?>? configuration = null)
    {
        var payments = await FakePaymentsServer.StartAsync();
        var settings = new Dictionary<string, string?>(configuration ?? [])
        {
            ["Reporting:PaymentsAddress"] = payments.Address.ToString(),
        };
        var host = await KestrelHost.StartAsync(ReportingApp.Build, settings);
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

    public static BuildReportRequest Request(params string[] accountIds)
    {
        var request = new BuildReportRequest();
        request.AccountIds.Add(accountIds);
        return request;
    }

    /// <summary>Calls BuildReport, cancelled with the test.</summary>
    public AsyncUnaryCall<BuildReportResponse> BuildReport(BuildReportRequest request, Metadata? headers = null, DateTime? deadline = null) =>
        Client.BuildReportAsync(request, headers ?? Tenant(), deadline, TestContext.Current.CancellationToken);

    /// <summary>Calls BuildReport with the caller's own cancellation.</summary>
    public AsyncUnaryCall<BuildReportResponse> BuildReportCancellable(BuildReportRequest request, CancellationToken cancellationToken) =>
        Client.BuildReportAsync(request, Tenant(), cancellationToken: cancellationToken);

    /// <summary>Waits for a condition another thread makes true (bounded; polls, asserts nothing by itself).</summary>
    public static async Task WaitUntilAsync(Func<bool> condition)
    {
        var timeout = Task.Delay(TaskTimeoutExtensions.DefaultTimeoutSpan, TestContext.Current.CancellationToken);
        while (!condition())
        {
            if (timeout.IsCompleted)
            {
                throw new TimeoutException("The condition did not become true in time.");
            }

            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Fake.Gate?.TrySetResult();
        await Host.DisposeAsync();
        await Payments.DisposeAsync();
    }
}
