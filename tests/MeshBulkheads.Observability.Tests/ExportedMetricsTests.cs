using System.Text.Json;
using System.Text.RegularExpressions;
using MeshBulkheads.Contracts.Payments.V1;
using MeshBulkheads.Contracts.Render.V1;
using MeshBulkheads.Contracts.Reporting.V1;
using MeshBulkheads.Testing.Processes;

namespace MeshBulkheads.Observability.Tests;

/// <summary>
/// The names docs/metrics.md, the Prometheus rules (and their promtool input series), the Grafana
/// dashboard and slo.yaml use are the names the four real processes export, and every exported
/// <c>meshbulkheads_*</c> name is documented. The mesh runs as child processes with their shipped
/// configuration; a little traffic of every kind (a charge, reads, a report, renders that queue, a
/// call the gateway refuses) makes the counters and up-down counters appear.
/// </summary>
public sealed partial class ExportedMetricsTests(ExportedMetricsTests.Mesh fixture) : IClassFixture<ExportedMetricsTests.Mesh>, IDisposable
{
    /// <summary>
    /// Documented names a process exports only after an event this test cannot cause without editing a
    /// shipped configuration file or breaking Redis: a configuration reload (accepted or refused), or a
    /// destination name that does not resolve (the shipped destinations are IP literals).
    /// Each is still checked by the unit tests of the class that records it.
    /// </summary>
    private static readonly HashSet<string> EventOnly = new(StringComparer.Ordinal)
    {
        "meshbulkheads_bulkhead_config_reloads_total",
        "meshbulkheads_bulkhead_config_reload_failures_total",
        "meshbulkheads_gateway_config_reload_failures_total",
        "meshbulkheads_gateway_dns_resolution_failures_total",
        // Only while a fault is on, or once a call was refused for its identity token.
        "meshbulkheads_faults_active",
        "meshbulkheads_faults_injected_total",
        "meshbulkheads_identity_refusals_total",
    };

    [Fact]
    public void DocumentedMetrics_FourProcessesUnderTraffic_AreAllExported()
    {
        // Arrange
        var documented = MetricsDocument.Load();

        // Act
        var missing = documented.Types.Keys
            .Where(n => !documented.Planned.Contains(n) && !EventOnly.Contains(n) && !fixture.Exported.ContainsKey(n))
            .Order(StringComparer.Ordinal)
            .ToList();

        // Assert
        Assert.True(missing.Count == 0, $"documented in docs/metrics.md but exported by no process: {string.Join(", ", missing)}");
    }

    [Fact]
    public void ExportedMeshMetrics_FourProcesses_AreAllDocumented()
    {
        // Arrange
        var documented = MetricsDocument.Load();

        // Act
        var undocumented = fixture.Exported.Keys
            .Where(n => n.StartsWith("meshbulkheads_", StringComparison.Ordinal) && !documented.Types.ContainsKey(n))
            .Select(n => $"{n} ({fixture.Exported[n]})")
            .Order(StringComparer.Ordinal)
            .ToList();

        // Assert
        Assert.NotEmpty(fixture.Exported);
        Assert.True(undocumented.Count == 0, $"exported but not in docs/metrics.md: {string.Join(", ", undocumented)}");
    }

    [Fact]
    public void RulesDashboardAndSlo_EveryRawMetric_IsExported()
    {
        // Arrange: every series name read by a rule, fed to a promtool case, queried by a panel or named in slo.yaml.
        var exported = fixture.Exported.Keys.SelectMany(n => PromQlNames.WithHistogramSeries(n)).ToHashSet(StringComparer.Ordinal);
        var recorded = PrometheusRule.Load(ObservabilityFiles.Rules).Where(r => r.Record is not null).Select(r => r.Record!).ToHashSet(StringComparer.Ordinal);
        using var dashboard = JsonDocument.Parse(File.ReadAllText(ObservabilityFiles.Dashboard));
        var used = PrometheusRule.Load(ObservabilityFiles.Rules).Select(r => ("rules.yaml", r.Expr))
            .Concat(ObservabilityFiles.LoadYaml(ObservabilityFiles.RulesTests).Items("tests")
                .SelectMany(t => t.Items("input_series")).Select(s => ("rules.test.yaml", s.Scalar("series") ?? string.Empty)))
            .Concat(DashboardTests.Exprs(dashboard.RootElement).Select(e => ("meshbulkheads.json", e)))
            .SelectMany(u => PromQlNames.Metrics(u.Item2).Select(n => (File: u.Item1, Name: n)))
            .Concat(RawMetricName().Matches(File.ReadAllText(ObservabilityFiles.Slo)).Select(m => (File: "slo.yaml", Name: m.Value)))
            .ToList();

        // Act
        var unknown = used
            .Where(u => !recorded.Contains(u.Name) && !exported.Contains(u.Name) && !EventOnly.Any(e => u.Name.StartsWith(e, StringComparison.Ordinal)))
            .Select(u => $"{u.Name} in {u.File}")
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();

        // Assert
        Assert.Contains(used, u => u.File == "slo.yaml");
        Assert.Contains(used, u => u.File == "rules.test.yaml");
        Assert.True(unknown.Count == 0, $"used but exported by no process: {string.Join(", ", unknown)}");
    }

    public void Dispose() => fixture.ReportOutputIfTestFailed();

    [GeneratedRegex(@"\b(?:meshbulkheads|dotnet|http|kestrel)_[a-z0-9_]+\b")]
    private static partial Regex RawMetricName();

    /// <summary>The mesh, driven once, and the union of the names its four admin ports export (name → type).</summary>
    public sealed partial class Mesh : IAsyncLifetime
    {
        private const string ApiKey = "acme-dev-key";
        private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
        private MeshProcesses? _mesh;

        public IReadOnlyDictionary<string, string> Exported { get; private set; } = new Dictionary<string, string>();

        public async ValueTask InitializeAsync()
        {
            var ct = TestContext.Current.CancellationToken;
            _mesh = await MeshProcesses.StartAsync(cancellationToken: ct);
            var documented = MetricsDocument.Load();
            var expected = documented.Types.Keys.Where(n => !documented.Planned.Contains(n) && !EventOnly.Contains(n)).ToList();

            // Some series need a wait to happen (a queued render, a call waiting for a pooled connection):
            // drive rounds until every expected name is there, or the bound passes and the tests report what is missing.
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
            bound.CancelAfter(Bound);
            var round = 0;
            while (true)
            {
                await DriveAsync(_mesh, round++, bound.Token);
                Exported = await ScrapeAsync(_mesh, ct);
                if (expected.All(Exported.ContainsKey) || bound.IsCancellationRequested)
                {
                    return;
                }
            }
        }

        public void ReportOutputIfTestFailed() => _mesh?.ReportOutputIfTestFailed();

        public async ValueTask DisposeAsync()
        {
            if (_mesh is not null)
            {
                await _mesh.DisposeAsync();
            }
        }

        private static async Task DriveAsync(MeshProcesses mesh, int round, CancellationToken ct)
        {
            var headers = new Metadata { { "x-api-key", ApiKey } };
            var deadline = DateTime.UtcNow.AddSeconds(30);
            var gateway = mesh.Gateway.CreateChannel();
            var payments = new PaymentsService.PaymentsServiceClient(gateway);
            var reporting = new ReportingService.ReportingServiceClient(gateway);
            var render = new RenderService.RenderServiceClient(gateway);
            var direct = new PaymentsService.PaymentsServiceClient(mesh.Payments.CreateChannel());
            var calls = new List<Task>
            {
                payments.ChargeAsync(
                    new ChargeRequest { AccountId = "acct-0001", AmountMinor = 100, Currency = "USD", IdempotencyKey = $"exported-metrics-{round}" },
                    headers, deadline, ct).ResponseAsync,
                reporting.BuildReportAsync(new BuildReportRequest { AccountIds = { "acct-0001", "acct-0002" } }, headers, deadline, ct).ResponseAsync,
                // No API key: the gateway answers itself (meshbulkheads_gateway_rejected_requests_total).
                payments.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, deadline: deadline, cancellationToken: ct).ResponseAsync,
            };

            // More renders at once than there are workers: some wait in the render bulkhead's queue.
            calls.AddRange(Enumerable.Range(0, 2 * Environment.ProcessorCount + 2).Select(_ =>
                render.RenderAsync(new RenderRequest { Width = 128, Height = 128, Iterations = 500 }, headers, deadline, ct).ResponseAsync));

            // One RenderRows stream read to its end: the stream's write-wait histogram and rows counter.
            calls.Add(ReadRowsAsync(render.RenderRows(new RenderRequest { Width = 32, Height = 8, Iterations = 10 }, headers, deadline, ct), ct));

            // A burst of reads straight at payments: callers wait for the read pool's connections.
            var tenant = new Metadata { { "x-tenant-id", "acme" } };
            calls.AddRange(Enumerable.Range(0, 64).Select(_ =>
                direct.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, tenant, deadline, ct).ResponseAsync));

            foreach (var call in calls)
            {
                try
                {
                    await call;
                }
                catch (RpcException)
                {
                    // Refusals are part of the traffic (the unauthenticated call, any shed render or read).
                }
            }
        }

        private static async Task ReadRowsAsync(AsyncServerStreamingCall<RenderRow> call, CancellationToken ct)
        {
            using (call)
            {
                while (await call.ResponseStream.MoveNext(ct))
                {
                }
            }
        }

        private static async Task<IReadOnlyDictionary<string, string>> ScrapeAsync(MeshProcesses mesh, CancellationToken ct)
        {
            // The exporter caches its response for 300 ms: wait it out so this scrape sees the traffic.
            await Task.Delay(TimeSpan.FromMilliseconds(350), ct);
            var names = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var process in mesh.All)
            {
                using var admin = process.CreateAdminClient();
                var text = await admin.GetStringAsync(new Uri("/metrics", UriKind.Relative), ct);
                foreach (Match type in TypeLine().Matches(text))
                {
                    names[type.Groups["name"].Value] = type.Groups["type"].Value;
                }
            }

            return names;
        }

        [GeneratedRegex(@"^# TYPE (?<name>[a-zA-Z_:][a-zA-Z0-9_:]*) (?<type>\w+)$", RegexOptions.Multiline)]
        private static partial Regex TypeLine();
    }
}
