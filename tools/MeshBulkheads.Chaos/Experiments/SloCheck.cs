using System.Globalization;
using System.Text.Json.Nodes;
using MeshBulkheads.Chaos.Engine;
using MeshBulkheads.Chaos.Local;

namespace MeshBulkheads.Chaos.Experiments;

/// <summary>A meshload stream against its method's objective in <c>slo.yaml</c>: success ratio and p99 latency (seen by the client, so stricter than at the server).</summary>
internal static class SloCheck
{
    public static string Tolerance(Slo slo) => string.Create(CultureInfo.InvariantCulture, $"ok >= {slo.SuccessRatio:P1} of offered, p99 <= {slo.LatencyP99Seconds * 1000:0} ms (slo.yaml {slo.Name})");

    public static ProbeOutcome Evaluate(LoadResult? load, string stream, Slo slo)
    {
        if (load is null)
        {
            return ProbeOutcome.Check(false, "no load result");
        }

        var offered = load.Count(stream, "offered");
        var ok = load.Count(stream, "ok");
        var p99 = load.Latency(stream, "p99");
        var ratio = offered == 0 ? 0 : ok / (double)offered;
        var output = load.Summary(stream);
        output["successRatio"] = Math.Round(ratio, 4);
        return ProbeOutcome.Check(offered > 0 && ratio >= slo.SuccessRatio && p99 <= slo.LatencyP99Seconds * 1000, output);
    }

    public static JsonObject Outcomes(LoadResult load, string stream) =>
        new([.. load.Outcomes(stream).Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))]);
}
