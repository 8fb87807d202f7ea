using MeshBulkheads.ServiceDefaults.Health;
using Microsoft.AspNetCore.Builder;

namespace MeshBulkheads.Payments.Tests.Ledger;

/// <summary>
/// One ledger backend for the contract tests (a class fixture): a seeded payments host shared by
/// the class, plus fresh empty ledgers on demand for tests that need their own.
/// </summary>
public abstract class LedgerBackend : IAsyncLifetime
{
    private readonly List<KestrelHost> _hosts = [];

    /// <summary><c>sqlite</c> or <c>postgresql</c>, as tagged on metrics.</summary>
    public abstract string DbSystem { get; }

    /// <summary>The seeded host shared by the class (default seed tenants acme, globex, initech).</summary>
    public KestrelHost Host => _host ?? throw new InvalidOperationException("The backend is not available.");

    /// <summary>The configuration of <see cref="Host"/>'s ledger (to start a second replica on it).</summary>
    public IReadOnlyDictionary<string, string?> HostConfiguration { get; private set; } = new Dictionary<string, string?>();

    private KestrelHost? _host;

    /// <summary>Why this backend cannot run; null when it can.</summary>
    protected virtual string? UnavailableReason => null;

    /// <summary>Skips (locally) or fails (CI) when the backend's server is missing.</summary>
    public void EnsureAvailable()
    {
        if (UnavailableReason is { } reason)
        {
            ServerRequirement.Unavailable(reason);
        }
    }

    /// <summary>Configuration for a new, empty ledger (a new SQLite directory or PostgreSQL database).</summary>
    public abstract Task<Dictionary<string, string?>> NewLedgerAsync();

    /// <summary>
    /// Starts a payments host on <paramref name="configuration"/> and, unless told otherwise, waits
    /// until its warm-ups (schema and seed) have finished. The host is disposed with the fixture.
    /// </summary>
    public async Task<KestrelHost> StartHostAsync(
        IReadOnlyDictionary<string, string?> configuration,
        Action<WebApplicationBuilder>? configure = null,
        bool waitForWarmup = true)
    {
        var warmedUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var host = await KestrelHost.StartAsync(
            PaymentsApp.Build,
            configuration.ToDictionary(),
            builder =>
            {
                configure?.Invoke(builder);
                // Warm-ups run in registration order: this one runs after schema and seed.
                builder.Services.AddSingleton<IWarmup>(new SignalWarmup(warmedUp));
            });
        lock (_hosts)
        {
            _hosts.Add(host);
        }

        if (waitForWarmup)
        {
            await warmedUp.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }

        return host;
    }

    public async ValueTask InitializeAsync()
    {
        if (UnavailableReason is not null)
        {
            return;
        }

        var configuration = await NewLedgerAsync();
        HostConfiguration = configuration;
        _host = await StartHostAsync(configuration);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }

        await DisposeLedgersAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>Deletes what <see cref="NewLedgerAsync"/> created.</summary>
    protected virtual ValueTask DisposeLedgersAsync() => ValueTask.CompletedTask;

    /// <summary>Signals when the warm-ups before it have finished; optionally blocks readiness on a gate.</summary>
    public sealed class SignalWarmup(TaskCompletionSource signal, Task? gate = null) : IWarmup
    {
        public async Task WarmUpAsync(CancellationToken cancellationToken)
        {
            signal.TrySetResult();
            if (gate is not null)
            {
                await gate.WaitAsync(cancellationToken);
            }
        }
    }
}
