using MeshBulkheads.Testing.Prometheus;

namespace MeshBulkheads.EndToEnd.Tests.Autoscaling;

/// <summary>
/// Real service processes as an HPA would see them: two render pods (<c>render-0</c>, <c>render-1</c>;
/// one worker each, so a few heavy renders queue for seconds), reporting (<c>reporting-0</c>) and the
/// payments it calls (<c>payments-0</c>), all in namespace <c>test</c>, scraped every second by a real
/// Prometheus with the static <c>namespace</c>/<c>pod</c> labels Kubernetes service discovery adds.
/// Started without any traffic: <see cref="IdleAtStart"/> holds what the adapter's queries read before
/// the first request. Prometheus missing: the tests skip (fail under <c>CI=true</c>).
/// </summary>
public sealed class AutoscalingMesh : IAsyncLifetime
{
    public const string Namespace = "test";

    /// <summary>The <c>render</c> bulkhead's MaxQueueTime here: long enough for Prometheus to see a queue.</summary>
    public static readonly TimeSpan RenderMaxQueueTime = TimeSpan.FromSeconds(5);

    private readonly List<HostProcess> _processes = [];
    private string? _dataDirectory;
    private PrometheusFixture? _prometheus;

    public HostProcess Render0 => _processes[0];

    public HostProcess Render1 => _processes[1];

    public HostProcess Payments => _processes[2];

    public HostProcess Reporting => _processes[3];

    public static IReadOnlyList<string> RenderPods { get; } = ["render-0", "render-1"];

    public static IReadOnlyList<string> ReportingPods { get; } = ["reporting-0"];

    public static IReadOnlyList<string> PaymentsPods { get; } = ["payments-0"];

    /// <summary>The running Prometheus; skips the test when Prometheus is not installed.</summary>
    public PrometheusFixture Prometheus
    {
        get
        {
            PrometheusFixture.EnsureInstalled();
            return _prometheus ?? throw new InvalidOperationException("Prometheus is not started.");
        }
    }

    /// <summary>
    /// Per adapter metric (<c>name.as</c>) and service, the rendered query's result once every target had
    /// been scraped, before any request was sent.
    /// </summary>
    public Dictionary<(string Metric, string Service), IReadOnlyList<PrometheusSample>> IdleAtStart { get; } = [];

    /// <summary>The raw gauges of every bulkhead at start (before any request), by metric name.</summary>
    public Dictionary<string, IReadOnlyList<PrometheusSample>> GaugesAtStart { get; } = [];

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        if (PrometheusFixture.FindBinary() is null)
        {
            return;
        }

        _dataDirectory = Directory.CreateTempSubdirectory("meshbulkheads-hpa-").FullName;
        Dictionary<string, string?> render = new()
        {
            ["Render:WorkerCount"] = "1",
            ["Bulkheads:render:QueueLimit"] = "16",
            ["Bulkheads:render:MaxQueueTime"] = RenderMaxQueueTime.ToString("c", CultureInfo.InvariantCulture),
        };
        _processes.Add(await HostProcess.StartAsync(MeshProcesses.RenderProject, render, ct));
        _processes.Add(await HostProcess.StartAsync(MeshProcesses.RenderProject, render, ct));
        _processes.Add(await HostProcess.StartAsync(MeshProcesses.PaymentsProject, new Dictionary<string, string?> { ["Payments:DataDirectory"] = _dataDirectory }, ct));
        _processes.Add(await HostProcess.StartAsync(
            MeshProcesses.ReportingProject,
            new Dictionary<string, string?> { ["Reporting:PaymentsAddress"] = Payments.Endpoints.Grpc.ToString().TrimEnd('/') },
            ct));

        PrometheusTarget[] targets =
        [
            new(Render0.Endpoints.Admin, "render", RenderPods[0], Namespace),
            new(Render1.Endpoints.Admin, "render", RenderPods[1], Namespace),
            new(Payments.Endpoints.Admin, "payments", PaymentsPods[0], Namespace),
            new(Reporting.Endpoints.Admin, "reporting", ReportingPods[0], Namespace),
        ];
        _prometheus = await PrometheusFixture.StartAsync(targets, loadRules: false, ct);
        await _prometheus.WaitForTargetsUpAsync(targets.Length, TimeSpan.FromSeconds(30), ct);

        // Before the first request: what a freshly started pod exports, and what the HPA would read.
        foreach (var metric in new[] { "meshbulkheads_bulkhead_queue_oldest_age_seconds", "meshbulkheads_bulkhead_permit_limit", "meshbulkheads_bulkhead_active_requests" })
        {
            GaugesAtStart[metric] = await _prometheus.QueryAsync(metric, ct);
        }

        foreach (var rule in PrometheusAdapterRule.LoadAll())
        {
            IdleAtStart[(rule.NameAs, "render")] = await _prometheus.QueryAsync(rule.Render(Namespace, [.. RenderPods]), ct);
            IdleAtStart[(rule.NameAs, "reporting")] = await _prometheus.QueryAsync(rule.Render(Namespace, [.. ReportingPods]), ct);
            IdleAtStart[(rule.NameAs, "payments")] = await _prometheus.QueryAsync(rule.Render(Namespace, [.. PaymentsPods]), ct);
        }
    }

    /// <summary>Writes the children's and Prometheus' recent output to a failed test's output.</summary>
    public void ReportOutputIfTestFailed()
    {
        foreach (var process in _processes)
        {
            process.ReportOutputIfTestFailed();
        }

        _prometheus?.ReportOutputIfTestFailed();
    }

    public async ValueTask DisposeAsync()
    {
        if (_prometheus is not null)
        {
            await _prometheus.DisposeAsync();
        }

        // Reporting before the payments it calls.
        foreach (var process in Enumerable.Reverse(_processes))
        {
            await process.DisposeAsync();
        }

        TempDirectories.TryDelete(_dataDirectory);
    }
}
