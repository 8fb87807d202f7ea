using Grpc.Core.Interceptors;
using MeshBulkheads.Payments.Tests.Ledger;
using MeshBulkheads.ServiceDefaults.Health;

namespace MeshBulkheads.Payments.Tests;

/// <summary>
/// Payments hosts on real Kestrel for one test, unseeded, each returned once its schema warm-up ran;
/// SQLite directories are deleted and hosts stopped on dispose.
/// </summary>
public sealed class PaymentsHostScope : IAsyncDisposable
{
    private readonly List<KestrelHost> _hosts = [];
    private readonly string _root = Path.Combine(Path.GetTempPath(), "mesh-payments-tests", Guid.NewGuid().ToString("N")[..12]);

    /// <summary>A host on a fresh SQLite ledger.</summary>
    public Task<KestrelHost> StartSqliteAsync(IReadOnlyDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        var all = new Dictionary<string, string?> { ["Payments:DataDirectory"] = Path.Combine(_root, _hosts.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)) };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        return StartAsync(all, services);
    }

    /// <summary>A host on the given configuration (e.g. a PostgreSQL connection string).</summary>
    public async Task<KestrelHost> StartAsync(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    {
        var all = new Dictionary<string, string?> { ["Payments:Seed"] = "false" };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        var warmedUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var host = await KestrelHost.StartAsync(PaymentsApp.Build, all, builder =>
        {
            services?.Invoke(builder.Services);
            builder.Services.AddSingleton<IWarmup>(new LedgerBackend.SignalWarmup(warmedUp));
        });
        _hosts.Add(host);
        await warmedUp.Task.DefaultTimeout();
        return host;
    }

    /// <summary>A client that sends <c>x-tenant-id</c> (and <c>x-mesh-criticality</c> when given) like the gateway.</summary>
    public static PaymentsService.PaymentsServiceClient Client(KestrelHost host, string tenant, string? criticality = null)
    {
        var invoker = host.CreateChannel().Intercept(metadata =>
        {
            metadata.Add(MeshMetadata.TenantId, tenant);
            if (criticality is not null)
            {
                metadata.Add(MeshMetadata.Criticality, criticality);
            }

            return metadata;
        });
        return new PaymentsService.PaymentsServiceClient(invoker);
    }

    /// <summary>The host's real ledger store, under the fault point that always wraps it (docs/faults.md).</summary>
    public static TStore Store<TStore>(KestrelHost host)
        where TStore : class, ILedgerStore
    {
        var store = host.Services.GetRequiredService<ILedgerStore>();
        return (TStore)(store is MeshBulkheads.Payments.Faults.FaultingLedgerStore faulting ? faulting.Inner : store);
    }

    /// <summary>A charge with a fresh idempotency key.</summary>
    public static ChargeRequest Charge(string account, long amount) => new()
    {
        AccountId = account,
        AmountMinor = amount,
        Currency = "USD",
        IdempotencyKey = Guid.NewGuid().ToString("N"),
    };

    /// <summary>All payments of an account, oldest first.</summary>
    public static async Task<List<Payment>> ListOldestFirstAsync(PaymentsService.PaymentsServiceClient client, string account, CancellationToken cancellationToken)
    {
        var all = new List<Payment>();
        var token = string.Empty;
        do
        {
            var page = await client.ListPaymentsAsync(new ListPaymentsRequest { AccountId = account, PageSize = 100, PageToken = token }, cancellationToken: cancellationToken);
            all.AddRange(page.Payments);
            token = page.NextPageToken;
        }
        while (token.Length > 0);

        all.Reverse();
        return all;
    }

    /// <summary>The trailer value, or null.</summary>
    public static string? Trailer(RpcException error, string key) => error.Trailers.GetValue(key);

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
