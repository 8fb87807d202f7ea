using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MeshBulkheads.Testing.Processes;

namespace MeshBulkheads.Testing.Prometheus;

/// <summary>
/// A real Prometheus server (Debian's <c>/usr/bin/prometheus</c>, run directly: the package's service
/// cannot start here) on 127.0.0.1 and a free port, with a temporary TSDB, scraping the given admin ports
/// every second and, optionally, evaluating <c>k8s/observability/prometheus/rules.yaml</c> every second.
/// <see cref="QueryAsync"/> runs an instant query through the HTTP API; <see cref="WaitUntilAsync"/>
/// polls one until a condition holds (bounded). Stopped and its TSDB deleted on <see cref="DisposeAsync"/>.
/// </summary>
public sealed class PrometheusFixture : IAsyncDisposable
{
    /// <summary>Where Debian's <c>prometheus</c> package installs the server.</summary>
    public const string DefaultBinary = "/usr/bin/prometheus";

    /// <summary>The scrape and rule evaluation interval.</summary>
    public static TimeSpan Interval { get; } = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);
    private const int StartAttempts = 3;

    private readonly ServerProcess _process;
    private readonly string _directory;
    private readonly HttpClient _http;
    private int _disposed;

    private PrometheusFixture(ServerProcess process, string directory, Uri address)
    {
        _process = process;
        _directory = directory;
        Address = address;
        _http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>The server's base address, e.g. <c>http://127.0.0.1:41234/</c> (its UI too).</summary>
    public Uri Address { get; }

    /// <summary>The last lines Prometheus logged.</summary>
    public string RecentOutput => _process.RecentOutput;

    /// <summary>Writes <see cref="RecentOutput"/> to the current test's output when the test did not pass.</summary>
    public void ReportOutputIfTestFailed() => _process.ReportOutputIfTestFailed("prometheus");

    /// <summary>The Prometheus binary: <c>PROMETHEUS_BINARY</c>, <c>/usr/bin/prometheus</c> or PATH; null when absent.</summary>
    public static string? FindBinary() =>
        Environment.GetEnvironmentVariable("PROMETHEUS_BINARY") is { Length: > 0 } configured && File.Exists(configured)
            ? configured
            : File.Exists(DefaultBinary) ? DefaultBinary : ServerRequirement.FindExecutable("prometheus");

    /// <summary>Skips the current test (fails it under <c>CI=true</c>) when Prometheus is not installed.</summary>
    public static void EnsureInstalled()
    {
        if (FindBinary() is null)
        {
            ServerRequirement.Unavailable($"Prometheus is not installed ({DefaultBinary} not found; apt-get install prometheus).");
        }
    }

    /// <summary>
    /// Starts Prometheus scraping <paramref name="targets"/> (<c>/metrics</c>, 1 s interval and timeout) and
    /// returns once <c>/-/ready</c> answers 200. With <paramref name="loadRules"/> the repository's
    /// <c>rules.yaml</c> is evaluated every second, so its recordings (<c>meshbulkheads:*</c>) are queryable.
    /// </summary>
    public static async Task<PrometheusFixture> StartAsync(
        IReadOnlyList<PrometheusTarget> targets,
        bool loadRules = true,
        CancellationToken cancellationToken = default)
    {
        var binary = FindBinary() ?? throw new InvalidOperationException($"Prometheus is not installed ({DefaultBinary}). Call EnsureInstalled first.");
        var directory = Directory.CreateTempSubdirectory("meshbulkheads-prom-").FullName;
        var rules = loadRules ? Path.Combine(RepositoryLayout.Root, "k8s", "observability", "prometheus", "rules.yaml") : null;
        var config = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(config, ConfigYaml(targets, rules), cancellationToken);

        // A free port can be taken between probing and binding: try a few.
        Exception? last = null;
        for (var attempt = 0; attempt < StartAttempts; attempt++)
        {
            var server = Launch(binary, directory, config, ServerProcess.FreeLoopbackPort());
            try
            {
                await server.WaitUntilReadyAsync(cancellationToken);
                return server;
            }
            catch (InvalidOperationException ex) when (server._process.HasExited && !cancellationToken.IsCancellationRequested)
            {
                last = ex;
                await server.StopProcessAsync();
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }

        TempDirectories.TryDelete(directory);
        throw new InvalidOperationException($"Prometheus did not start after {StartAttempts} attempts.", last);
    }

    /// <summary>Runs an instant query now; a scalar result is one sample without labels.</summary>
    /// <exception cref="InvalidOperationException">Prometheus refused the query (the message is its error).</exception>
    public async Task<IReadOnlyList<PrometheusSample>> QueryAsync(string promql, CancellationToken cancellationToken = default)
    {
        var uri = new Uri("api/v1/query?query=" + Uri.EscapeDataString(promql), UriKind.Relative);
        using var response = await _http.GetAsync(uri, cancellationToken);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var json = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
        var root = json.RootElement;
        if (root.GetProperty("status").GetString() != "success")
        {
            var error = root.TryGetProperty("error", out var e) ? e.GetString() : response.StatusCode.ToString();
            throw new InvalidOperationException($"Prometheus refused `{promql}`: {error}");
        }

        var data = root.GetProperty("data");
        var result = data.GetProperty("result");
        if (data.GetProperty("resultType").GetString() is "scalar")
        {
            return [new PrometheusSample(new Dictionary<string, string>(), ParseValue(result))];
        }

        var samples = new List<PrometheusSample>();
        foreach (var element in result.EnumerateArray())
        {
            var labels = element.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? string.Empty, StringComparer.Ordinal);
            samples.Add(new PrometheusSample(labels, ParseValue(element.GetProperty("value"))));
        }

        return samples;
    }

    /// <summary>
    /// Polls <paramref name="promql"/> every 250 ms until <paramref name="condition"/> holds for its result
    /// and returns that result; throws <see cref="TimeoutException"/> (naming the query and its last result)
    /// after <paramref name="timeout"/>.
    /// </summary>
    public async Task<IReadOnlyList<PrometheusSample>> WaitUntilAsync(
        string promql,
        Func<IReadOnlyList<PrometheusSample>, bool> condition,
        TimeSpan timeout,
        CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        IReadOnlyList<PrometheusSample> last = [];
        while (true)
        {
            last = await QueryAsync(promql, cancellationToken);
            if (condition(last))
            {
                return last;
            }

            if (stopwatch.Elapsed >= timeout)
            {
                var shown = last.Count == 0 ? "(empty)" : string.Join("; ", last);
                throw new TimeoutException($"`{promql}` did not satisfy the condition within {timeout.TotalSeconds:0} s. Last result: {shown}");
            }

            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    /// <summary>Waits until every target's <c>up</c> is 1 (each has been scraped successfully).</summary>
    public Task<IReadOnlyList<PrometheusSample>> WaitForTargetsUpAsync(int expectedTargets, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        WaitUntilAsync("up", r => r.Count == expectedTargets && r.All(s => s.Value == 1), timeout, cancellationToken);

    /// <summary>Kills Prometheus and deletes its temporary TSDB and configuration.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _http.Dispose();
        await StopProcessAsync();
        TempDirectories.TryDelete(_directory);
    }

    internal static string ConfigYaml(IReadOnlyList<PrometheusTarget> targets, string? rulesFile)
    {
        var seconds = Interval.TotalSeconds.ToString(CultureInfo.InvariantCulture) + "s";
        var yaml = new StringBuilder();
        yaml.AppendLine("# Generated by MeshBulkheads.Testing.Prometheus.PrometheusFixture.");
        yaml.AppendLine("global:");
        yaml.AppendLine(CultureInfo.InvariantCulture, $"  scrape_interval: {seconds}");
        yaml.AppendLine(CultureInfo.InvariantCulture, $"  scrape_timeout: {seconds}");
        yaml.AppendLine(CultureInfo.InvariantCulture, $"  evaluation_interval: {seconds}");
        if (rulesFile is not null)
        {
            yaml.AppendLine("rule_files:");
            yaml.AppendLine(CultureInfo.InvariantCulture, $"  - {Quote(rulesFile)}");
        }

        yaml.AppendLine("scrape_configs:");
        yaml.AppendLine("  - job_name: meshbulkheads");
        yaml.AppendLine("    metrics_path: /metrics");
        yaml.AppendLine("    static_configs:");
        foreach (var target in targets)
        {
            yaml.AppendLine(CultureInfo.InvariantCulture, $"      - targets: [{Quote(target.Address.Authority)}]");
            yaml.AppendLine(CultureInfo.InvariantCulture, $"        labels: {{ namespace: {Quote(target.Namespace)}, pod: {Quote(target.PodLabel)}, service: {Quote(target.Service)} }}");
        }

        return yaml.ToString();
    }

    private static PrometheusFixture Launch(string binary, string directory, string config, int port)
    {
        var address = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/"));
        string[] arguments =
        [
            "--config.file=" + config,
            "--storage.tsdb.path=" + Path.Combine(directory, "data"),
            string.Create(CultureInfo.InvariantCulture, $"--web.listen-address=127.0.0.1:{port}"),
            "--storage.tsdb.retention.time=1h",
            "--log.level=warn",
        ];
        var process = new ServerProcess(Tool.StartInfo(binary, arguments, directory), outputLines: 200);
        var server = new PrometheusFixture(process, directory, address);
        process.Start();
        return server;
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StartTimeout);
        try
        {
            if (!await _process.WaitUntilReadyAsync(ct => ServerProcess.AnswersOkAsync(_http, "-/ready", ct), PollInterval, timeout.Token))
            {
                throw new InvalidOperationException($"Prometheus exited ({_process.ExitCode}) before it was ready:{Environment.NewLine}{RecentOutput}");
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Prometheus was not ready within {StartTimeout.TotalSeconds:0} s:{Environment.NewLine}{RecentOutput}");
        }
    }

    private async Task StopProcessAsync()
    {
        // Prometheus shuts down cleanly on SIGTERM, but a temp TSDB needs no clean shutdown.
        await _process.StopAsync(StopTimeout);
        _process.Dispose();
    }

    private static double ParseValue(JsonElement pair)
    {
        var text = pair[1].GetString() ?? "NaN";
        return text switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
    }

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
