using System.Diagnostics;
using System.Text;
using Grpc.Health.V1;

namespace MeshBulkheads.EndToEnd.Tests.HostileInput;

/// <summary>
/// Fuzzes every gRPC port (gateway, payments, reporting, render) on real Kestrel with hostile length-prefixed
/// messages, framing, metadata, timeouts, paths and credentials (<see cref="HostileFrameGenerator"/>), and holds each
/// answer to an oracle: a gRPC status the case allows (Trailers-Only headers or trailers), an HTTP status the gRPC
/// spec maps (415, 404, 405, 431, …), or, for protocol violations only, a reset/GOAWAY/closed connection; never a hang.
/// Afterwards every host still answers grpc.health.v1 SERVING, the process heap after a full GC is within 10 % plus
/// <see cref="HeapAllowanceBytes"/> of its level before, and no metric series carries a fuzzed path, key or token.
/// </summary>
/// <remarks>
/// Seeded: the seed is printed (and in every failure); <c>MESH_FUZZ_SEED=&lt;n&gt;</c> replays a run,
/// <c>MESH_FUZZ_CASES=&lt;n&gt;</c> changes the number of cases per port (at least <see cref="DefaultCases"/> by default),
/// and <c>MESH_FUZZ_CASE=&lt;i&gt;</c> runs case i alone (with the kind it has in a full run).
/// Answers the oracle relies on: a request message that does not parse and a compressed flag other than 0 or 1
/// (the mesh's own, ServiceDefaults MeshRequestDecoding: grpc-dotnet answered them UNKNOWN, K1), a frame cut short
/// ("Incomplete message."), bytes after the message ("Additional data after the message received."), a compressed
/// flag without grpc-encoding, and identity with the compressed flag (grpc-dotnet's) are INTERNAL, which the gRPC status code table
/// documents for "error parsing request proto" and protocol violations; an unsupported grpc-encoding is
/// UNIMPLEMENTED (gRPC compression spec); a content type that is not gRPC is HTTP 415.
/// </remarks>
[Collection(EndToEndCollection.Name)]
public sealed partial class HostileFrameTests(HostileMeshFixture fixture) : IClassFixture<HostileMeshFixture>
{
    /// <summary>Cases per port unless MESH_FUZZ_CASES says otherwise.</summary>
    public const int DefaultCases = 4000;

    /// <summary>
    /// The absolute heap allowance on top of 10 %: Kestrel's and SocketsHttpHandler's pooled blocks, HPACK tables and
    /// connection objects of the own-connection cases awaiting their pool's idle scavenging, and the metric points of
    /// new (bounded) label sets such as a status code seen first in the run. 16 MB is far below what retaining even
    /// a small fraction of the traffic (tens of MB of bodies and headers per port) would add.
    /// </summary>
    public const long HeapAllowanceBytes = 16L * 1024 * 1024;

    private static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(5);
    private const int Concurrency = 4;

    [Theory]
    [InlineData("gateway")]
    [InlineData("payments")]
    [InlineData("reporting")]
    [InlineData("render")]
    public async Task HostileFrames_EveryCaseKindOnPort_DocumentedStatusAndHostsUnharmed(string port)
    {
        // Arrange
        var ct = TestContext.Current.CancellationToken;
        var seed = Seed();
        var target = fixture.Targets[port];
        var generator = new HostileFrameGenerator(seed, target);
        var count = IntFromEnvironment("MESH_FUZZ_CASES") ?? DefaultCases;
        var only = IntFromEnvironment("MESH_FUZZ_CASE");
        List<HostileCase> cases = only is { } single
            ? [generator.Generate(single, single < (int)(count * HostileFrameGenerator.ExplicitShare) ? KindAt(single) : HostileCaseKind.Mix)]
            : generator.Generate(count).ToList();
        var host = fixture.Host(port);
        using var runner = new HostileCaseRunner(host.Endpoints.Grpc, CaseTimeout);
        Log($"hostile frames on {port}: seed {seed} (replay: MESH_FUZZ_SEED={seed}), {cases.Count} cases");
        // Warm-up (not judged twice): one case of every kind, so JIT, pools and first-seen label sets are in the baseline.
        foreach (var warm in generator.Generate(3 * Enum.GetValues<HostileCaseKind>().Length))
        {
            await runner.RunAsync(warm, ct);
        }

        var seriesBefore = await ScrapeSeriesAsync(ct);
        var heapBefore = FullGcHeap();
        var clock = Stopwatch.StartNew();

        // Act
        var results = new (HostileCase Case, HostileOutcome Outcome)[cases.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, cases.Count), new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = ct }, async (i, token) =>
        {
            results[i] = (cases[i], await runner.RunAsync(cases[i], token));
        });
        var elapsed = clock.Elapsed;
        var health = await HealthAsync(ct);
        var heapAfter = FullGcHeap();
        var seriesAfter = await ScrapeSeriesAsync(ct);

        // Assert
        Log($"{port}: {cases.Count} cases in {elapsed.TotalSeconds:0.0} s; heap {heapBefore / 1024} KB -> {heapAfter / 1024} KB; series {seriesBefore.Count} -> {seriesAfter.Count}");
        Log(Histogram(results));
        // No answer is tolerated by name any more: the defects the fuzzer found (K1–K3) are fixed and pinned by the
        // focused tests in HostileFrameTests.Defects.cs.
        var failures = results.Select(r => (r.Case, r.Outcome, Verdict: Judge(r.Case, r.Outcome))).Where(r => r.Verdict is not null).ToList();
        Assert.True(failures.Count == 0, $"seed {seed} (MESH_FUZZ_SEED={seed}), port {port}: {failures.Count} of {cases.Count} cases broke the oracle; first ones:\n"
            + string.Join("\n", failures.GroupBy(f => (f.Case.Kind, f.Outcome.Label, Note: f.Case.Description.Length > 30 ? f.Case.Description[..30] : f.Case.Description)).OrderByDescending(g => g.Count()).Take(60).Select(g =>
            {
                var f = g.First();
                return $"[{g.Count()}× {g.Key.Kind} → {g.Key.Label}] {f.Verdict}\n    case {f.Case}\n    sent {f.Outcome.SentPath}\n    got  {f.Outcome}";
            })));
        Assert.All(health, h => Assert.True(h.Status == HealthCheckResponse.Types.ServingStatus.Serving, $"{h.Host} after fuzzing {port}: {h.Status}"));
        Assert.True(heapAfter <= (heapBefore * 1.10) + HeapAllowanceBytes, $"seed {seed}: heap after a full GC grew from {heapBefore} to {heapAfter} bytes while fuzzing {port}");
        var fuzzed = results.SelectMany(r => r.Case.FuzzedValues).Distinct().ToList();
        var leaked = seriesAfter.Where(s => fuzzed.Exists(v => Contains(s, v)) || s.Contains(HostileFrameGenerator.Marker, StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(leaked.Count == 0, $"seed {seed}: {leaked.Count} metric series carry fuzzed values after fuzzing {port}, e.g.\n{string.Join("\n", leaked.Take(10))}");
        if (port == "render")
        {
            // Render's per-tenant work budget takes any x-tenant-id as a key: bounded by its sweep, not by the callers.
            var buckets = fixture.Mesh.Render.Services.GetRequiredService<MeshBulkheads.Render.Budget.TenantWorkBudget>().BucketCount;
            Assert.InRange(buckets, 0, MeshBulkheads.Render.Budget.TenantWorkBudget.SweepThreshold + Concurrency + 1);
        }

        // System.Net.Http's and the runtime's meters are process-wide: every host's scrape also shows this test's own
        // HttpClient (method × status × port) and exception types, bounded and not the hosts' per-path state.
        var grown = seriesAfter.Except(seriesBefore).Where(s => s.Contains(" meshbulkheads_", StringComparison.Ordinal)).ToList();
        Log($"{port}: {grown.Count} new series, e.g.\n  {string.Join("\n  ", grown.Take(60))}");
        // New series may only be new combinations of bounded labels (HTTP method × status × route template, a status or
        // reason first seen): in process every scrape can show all four hosts' meters (the gateway's forwarded calls land
        // in the services' bulkhead series too), so a few hundred — a CI run saw 404 on the gateway. A per-path or per-key
        // label would add about one per case (thousands), so the bound is a quarter of the cases (at least 400), and the fuzzed-value
        // check above names such a label anyway.
        var bound = Math.Max(400, cases.Count / 4);
        Assert.True(grown.Count <= bound, $"seed {seed}: {grown.Count} new metric series (bound {bound}) while fuzzing {port} (a per-path or per-key label?), e.g.\n{string.Join("\n", grown.Take(20))}");
    }

    [Theory]
    [InlineData("payments")]
    [InlineData("reporting")]
    [InlineData("render")]
    public async Task NineDigitTimeout_DirectToService_InvalidArgument(string port)
    {
        // Arrange: 9 digits is malformed (at most 8, PROTOCOL-HTTP2); 999999999H also overflows a TimeSpan.
        var method = fixture.Targets[port].Methods[0];
        var body = HostileFrameGenerator.Frame(0, method.Valid(new Random(1)));

        // Act
        var outcome = await SendAsync(port, method.Path, [new("x-tenant-id", DemoTenants.Acme), new("grpc-timeout", "999999999H")], body);

        // Assert
        // Refused by the listener gate before grpc-dotnet parses it (it answered UNKNOWN) and before identity.
        Assert.True(outcome.Grpc is StatusCode.InvalidArgument, $"{port} grpc-timeout 999999999H: {outcome}");
    }

    private async Task<HostileOutcome> SendAsync(string port, string path, List<KeyValuePair<string, string>> headers, byte[] body, bool ownConnection = false)
    {
        using var runner = new HostileCaseRunner(fixture.Host(port).Endpoints.Grpc, CaseTimeout);
        var hostile = new HostileCase
        {
            Index = 0,
            Kind = HostileCaseKind.ValidControl,
            Parts = [ownConnection ? HostileCaseKind.OversizedMetadata : HostileCaseKind.ValidControl],
            Description = "focused",
            Path = path,
            Headers = [new("te", "trailers"), .. headers],
            Body = body,
            Expected = new HostileExpectation(),
            FuzzedValues = [],
        };
        return await runner.RunAsync(hostile, TestContext.Current.CancellationToken);
    }

    /// <summary>Null when the outcome is one the case allows, else why not.</summary>
    public static string? Judge(HostileCase hostile, HostileOutcome outcome)
    {
        var expected = hostile.Expected;
        if (outcome.TimedOut)
        {
            return "HANG: no answer within the case timeout";
        }

        if (outcome.TransportError is not null)
        {
            return expected.TransportErrorAllowed ? null : "TRANSPORT ERROR on a well-formed HTTP/2 request (only protocol violations may end in a reset or GOAWAY)";
        }

        if (outcome.HttpStatus == 200)
        {
            if (outcome.Grpc is not { } code)
            {
                return "HTTP 200 without a grpc-status (neither Trailers-Only headers nor trailers)";
            }

            return expected.Grpc.Contains(code) ? null : $"grpc-status {code} is not one of this case's outcomes";
        }

        return expected.Http.Contains(outcome.HttpStatus ?? 0) ? null : $"HTTP {outcome.HttpStatus} is not one of this case's outcomes";
    }

    private static bool Contains(string series, string fuzzed) =>
        fuzzed.StartsWith('=')
            ? series.Contains(fuzzed[1..], StringComparison.Ordinal)
            : series.Contains(fuzzed, StringComparison.OrdinalIgnoreCase);

    private static HostileCaseKind KindAt(int index)
    {
        HostileCaseKind[] singles = [.. Enum.GetValues<HostileCaseKind>().Where(k => k != HostileCaseKind.Mix)];
        return singles[index % singles.Length];
    }

    private static string Histogram((HostileCase Case, HostileOutcome Outcome)[] results)
    {
        var builder = new StringBuilder();
        foreach (var group in results.GroupBy(r => r.Case.Kind).OrderBy(g => g.Key))
        {
            var outcomes = group.GroupBy(r => r.Outcome.Label).OrderByDescending(g => g.Count()).Select(g => $"{g.Key}×{g.Count()}");
            builder.Append(CultureInfo.InvariantCulture, $"  {group.Key,-26} {group.Count(),5}: {string.Join(", ", outcomes)}\n");
        }

        return builder.ToString();
    }

    private async Task<List<(string Host, HealthCheckResponse.Types.ServingStatus Status)>> HealthAsync(CancellationToken ct)
    {
        var statuses = new List<(string, HealthCheckResponse.Types.ServingStatus)>();
        foreach (var name in new[] { "gateway", "payments", "reporting", "render" })
        {
            var client = new Health.HealthClient(fixture.Host(name).CreateChannel());
            var response = await client.CheckAsync(new HealthCheckRequest { Service = string.Empty }, deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: ct);
            statuses.Add((name, response.Status));
        }

        return statuses;
    }

    /// <summary>Every host's distinct series (metric name and labels; histogram buckets folded into their series).</summary>
    private async Task<HashSet<string>> ScrapeSeriesAsync(CancellationToken ct)
    {
        var series = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in new[] { "gateway", "payments", "reporting", "render" })
        {
            using var admin = fixture.Host(name).CreateAdminClient();
            var text = await admin.GetStringAsync(new Uri("/metrics", UriKind.Relative), ct);
            foreach (var line in text.Split('\n'))
            {
                if (line.Length == 0 || line[0] == '#')
                {
                    continue;
                }

                series.Add(name + " " + SeriesOf(line));
            }
        }

        return series;
    }

    /// <summary><c>name{labels} value</c> → <c>name{labels}</c> without histogram suffixes and the <c>le</c> label.</summary>
    internal static string SeriesOf(string line)
    {
        var brace = line.IndexOf('{', StringComparison.Ordinal);
        var end = brace >= 0 ? line.LastIndexOf('}') + 1 : line.IndexOf(' ', StringComparison.Ordinal);
        var key = end > 0 ? line[..end] : line;
        var name = brace >= 0 ? key[..brace] : key;
        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal))
            {
                name = name[..^suffix.Length];
                break;
            }
        }

        if (brace < 0)
        {
            return name;
        }

        var labels = key[(brace + 1)..^1].Split(',').Where(l => !l.StartsWith("le=", StringComparison.Ordinal));
        return name + "{" + string.Join(",", labels) + "}";
    }

    private static long FullGcHeap()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static int Seed() => IntFromEnvironment("MESH_FUZZ_SEED") ?? Random.Shared.Next();

    private static int? IntFromEnvironment(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static void Log(string message)
    {
        TestContext.Current.TestOutputHelper?.WriteLine(message);
        TestContext.Current.SendDiagnosticMessage(message);
    }
}
