using MeshBulkheads.Testing.Postgres;
using MeshBulkheads.Testing.Prometheus;

namespace MeshBulkheads.EndToEnd.Tests.Diagnosis;

/// <summary>
/// The mesh the diagnosis tests read their telemetry from, configured so each symptom is cheap to produce:
/// payments on PostgreSQL with a read pool of one connection (<c>Payments:Database:ReadPoolSize=1</c>),
/// render with one worker, a queue of 16 and 5 s of queue time, and a Prometheus scraping the four admin
/// ports every second with the repository's recording rules. PostgreSQL or Prometheus missing: the mesh
/// still starts (payments on SQLite) and the tests that need them skip (fail under <c>CI=true</c>).
/// </summary>
public sealed class DiagnosisMesh : IAsyncLifetime
{
    /// <summary>Render workers (= the <c>render</c> bulkhead's permits).</summary>
    public const int RenderWorkers = 1;

    /// <summary>The <c>render</c> bulkhead's queue limit.</summary>
    public const int RenderQueueLimit = 16;

    /// <summary>The <c>render</c> bulkhead's MaxQueueTime: long enough for Prometheus to see the queue.</summary>
    public static readonly TimeSpan RenderMaxQueueTime = TimeSpan.FromSeconds(5);

    private readonly PostgresFixture _postgres = new();
    private MeshProcesses? _mesh;
    private PrometheusFixture? _prometheus;

    public MeshProcesses Mesh => _mesh ?? throw new InvalidOperationException("The mesh is not started.");

    /// <summary>The running Prometheus; skips the test when Prometheus is not installed.</summary>
    public PrometheusFixture Prometheus
    {
        get
        {
            PrometheusFixture.EnsureInstalled();
            return _prometheus ?? throw new InvalidOperationException("Prometheus is not started.");
        }
    }

    /// <summary>Skips the test (fails under CI) when payments could not run on PostgreSQL.</summary>
    public void EnsurePostgres() => _postgres.EnsureAvailable();

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        await _postgres.InitializeAsync();
        var connectionString = _postgres.UnavailableReason is null ? await _postgres.CreateDatabaseAsync() : null;

        _mesh = await MeshProcesses.StartAsync(project => Configure(project, connectionString), ct);
        if (PrometheusFixture.FindBinary() is not null)
        {
            PrometheusTarget[] targets =
            [
                new(_mesh.Gateway.Endpoints.Admin, "gateway"),
                new(_mesh.Payments.Endpoints.Admin, "payments"),
                new(_mesh.Reporting.Endpoints.Admin, "reporting"),
                new(_mesh.Render.Endpoints.Admin, "render"),
            ];
            _prometheus = await PrometheusFixture.StartAsync(targets, loadRules: true, ct);
        }
    }

    /// <summary>Writes the children's and Prometheus' recent output to a failed test's output.</summary>
    public void ReportOutputIfTestFailed()
    {
        _mesh?.ReportOutputIfTestFailed();
        _prometheus?.ReportOutputIfTestFailed();
    }

    public async ValueTask DisposeAsync()
    {
        if (_prometheus is not null)
        {
            await _prometheus.DisposeAsync();
        }

        if (_mesh is not null)
        {
            await _mesh.DisposeAsync();
        }

        await _postgres.DisposeAsync();
    }

    private static Dictionary<string, string?> Configure(string project, string? connectionString) => project switch
    {
        MeshProcesses.PaymentsProject => new()
        {
            ["Payments:ConnectionString"] = connectionString,
            ["Payments:Database:ReadPoolSize"] = "1",
        },
        MeshProcesses.RenderProject => new()
        {
            ["Render:WorkerCount"] = RenderWorkers.ToString(CultureInfo.InvariantCulture),
            ["Bulkheads:render:QueueLimit"] = RenderQueueLimit.ToString(CultureInfo.InvariantCulture),
            ["Bulkheads:render:MaxQueueTime"] = RenderMaxQueueTime.ToString("c", CultureInfo.InvariantCulture),
        },
        _ => [],
    };
}
