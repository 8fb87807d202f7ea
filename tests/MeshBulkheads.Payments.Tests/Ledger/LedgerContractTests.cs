using System.Net;
using Grpc.Core.Interceptors;

namespace MeshBulkheads.Payments.Tests.Ledger;

/// <summary>
/// The payments contract, written once and run against every ledger backend through real Kestrel
/// and a real gRPC client that sends <c>x-tenant-id</c> like the gateway does.
/// </summary>
/// <remarks>Split by concern, one <c>LedgerContractTests.&lt;Concern&gt;.cs</c> file per group of tests; this file holds what they share.</remarks>
public abstract partial class LedgerContractTests(LedgerBackend backend)
{
    private const string Tenant = "acme";
    private const string OtherTenant = "globex";

    protected LedgerBackend Backend { get; } = backend;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<KestrelHost> StartSmallPoolReplicaAsync()
    {
        Backend.EnsureAvailable();
        return Backend.StartHostAsync(WithSettings(
            Backend.HostConfiguration,
            ("Payments:Seed", "false"),
            ("Payments:Database:ChargePoolSize", "1"),
            ("Payments:Database:ReadPoolSize", "1"),
            ("Payments:Database:MaxPoolWait", "00:00:00.200")));
    }

    protected PaymentsService.PaymentsServiceClient Client(string tenant, KestrelHost? host = null)
    {
        Backend.EnsureAvailable();
        var invoker = (host ?? Backend.Host).CreateChannel().Intercept(metadata =>
        {
            metadata.Add("x-tenant-id", tenant);
            return metadata;
        });
        return new PaymentsService.PaymentsServiceClient(invoker);
    }

    protected static string NewAccount() => "t-" + Guid.NewGuid().ToString("N")[..20];

    protected static ChargeRequest Charge(string account, long amount, string currency = "USD") => new()
    {
        AccountId = account,
        AmountMinor = amount,
        Currency = currency,
        IdempotencyKey = Guid.NewGuid().ToString(),
    };

    protected static async Task<RpcException> AssertStatusAsync(StatusCode expected, Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call).DefaultTimeout();
        Assert.True(expected == error.StatusCode, $"Expected {expected}, got {error.StatusCode}: {error.Status.Detail}");
        return error;
    }

    private static Task<GetBalanceResponse> BalanceAsync(PaymentsService.PaymentsServiceClient client, string account) =>
        client.GetBalanceAsync(new GetBalanceRequest { AccountId = account }, cancellationToken: Ct).ResponseAsync;

    /// <summary>Charges <paramref name="account"/> each amount in turn (one at a time); returns the payment ids in charge order.</summary>
    private static async Task<List<string>> ChargeEachAsync(PaymentsService.PaymentsServiceClient client, string account, IEnumerable<long> amounts)
    {
        var ids = new List<string>();
        foreach (var amount in amounts)
        {
            ids.Add((await client.ChargeAsync(Charge(account, amount), cancellationToken: Ct)).PaymentId);
        }

        return ids;
    }

    /// <summary>Starts <paramref name="count"/> calls that wait on one signal, releases them together and returns their results.</summary>
    private static async Task<T[]> RaceAsync<T>(int count, Func<int, Task<T>> call)
    {
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, count).Select(async i =>
        {
            await start.Task;
            return await call(i);
        }).ToList();
        start.SetResult();
        return await Task.WhenAll(calls).DefaultTimeout();
    }

    private static Dictionary<string, string?> WithSettings(IReadOnlyDictionary<string, string?> configuration, params (string Key, string Value)[] settings)
    {
        var result = configuration.ToDictionary();
        foreach (var (key, value) in settings)
        {
            result[key] = value;
        }

        return result;
    }

    private static async Task<List<ListPaymentsResponse>> ReadAllPagesAsync(PaymentsService.PaymentsServiceClient client, string account, int pageSize)
    {
        var pages = new List<ListPaymentsResponse>();
        var token = string.Empty;
        do
        {
            var page = await client.ListPaymentsAsync(new ListPaymentsRequest { AccountId = account, PageSize = pageSize, PageToken = token }, cancellationToken: Ct);
            pages.Add(page);
            token = page.NextPageToken;
        }
        while (token.Length > 0);
        return pages;
    }

    private static async Task<HttpStatusCode> PollStatusAsync(HttpClient client, string path, HttpStatusCode wanted)
    {
        // Readiness flips right after the last warm-up returns, on another thread: poll, bounded.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TaskTimeoutExtensions.DefaultTimeoutSpan);
        while (true)
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative), timeout.Token);
            if (response.StatusCode == wanted)
            {
                return response.StatusCode;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), timeout.Token);
        }
    }
}
