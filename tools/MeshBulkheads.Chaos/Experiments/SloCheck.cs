using System.Globalization;
using System.Text.Json.Nodes;
using MeshBulkheads.Chaos.Engine;
using MeshBulkheads.Chaos.Local;

namespace MeshBulkheads.Chaos.Experiments;

/// <summary>A meshload stream against its method's objective in <c>slo.yaml</c>: success ratio and p99 latency (seen by the client, so stricter than at the server).</summary>
internal static class SloCheck
{
    public static string Tolerance(Slo slo) => string.Create(CultureInfo.InvariantCulture, $"ok >= {slo.SuccessRatio:P1} of offered, p99 <= {slo.LatencyP99Seconds * 1000:0} ms (slo.yaml {slo.Name})");

    /// <summary>Each quiet stream with its method's objective: <c>…-charges</c> streams are judged as Charge, the others as GetBalance.</summary>
    public static (string Stream, Slo Slo)[] ForStreams(SloFile slos, IEnumerable<string> streams) =>
        [.. streams.Select(stream => (stream, slos.For(stream.EndsWith("charges", StringComparison.Ordinal) ? "Charge" : "GetBalance")))];

    /// <summary>The tolerance of a steady state that judges several streams at once.</summary>
    public static string Tolerance(IEnumerable<(string Stream, Slo Slo)> judged) => string.Join("; ", judged.Select(j => $"{j.Stream}: {Tolerance(j.Slo)}"));

    /// <summary>How long each measuring load warms up (meshload's own JIT and connections) before its calls count.</summary>
    public static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The stream's calls due after <see cref="WarmUp"/> (from the call log) against the objective: OK of offered and
    /// the p99 of the OK calls' latency, counted from each call's intended send time.
    /// </summary>
    public static ProbeOutcome Evaluate(LoadResult? load, string stream, Slo slo)
    {
        if (load is null)
        {
            return ProbeOutcome.Check(false, "no load result");
        }

        var calls = Measured(load, stream);
        var ok = calls.Where(c => c.Status == "OK").Select(c => c.LatencyMs).Order().ToArray();
        var ratio = calls.Count == 0 ? 0 : ok.Length / (double)calls.Count;
        var p99 = Percentile(ok, 0.99);
        var output = new JsonObject
        {
            ["measuredFromSeconds"] = WarmUp.TotalSeconds,
            ["offered"] = calls.Count,
            ["ok"] = ok.Length,
            ["successRatio"] = Math.Round(ratio, 4),
            ["p50Ms"] = Math.Round(Percentile(ok, 0.50), 1),
            ["p99Ms"] = Math.Round(p99, 1),
            ["outcomes"] = new JsonObject([.. calls.GroupBy(c => c.Reason is null ? c.Status : $"{c.Status}/{c.Reason}").Select(g => KeyValuePair.Create(g.Key, (JsonNode?)g.Count()))]),
        };
        return ProbeOutcome.Check(calls.Count > 0 && ratio >= slo.SuccessRatio && p99 <= slo.LatencyP99Seconds * 1000, output);
    }

    /// <summary>The stream's calls due after the warm-up.</summary>
    public static List<CallRecord> Measured(LoadResult load, string stream) =>
        [.. load.Calls.Where(c => c.Stream == stream && c.DueMs >= WarmUp.TotalMilliseconds)];

    /// <summary>The nearest-rank percentile of sorted values (NaN when empty).</summary>
    public static double Percentile(double[] sorted, double quantile) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)];

    public static JsonObject Outcomes(LoadResult load, string stream) =>
        new([.. load.Outcomes(stream).Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))]);
}
