using System.Globalization;
using System.Text.RegularExpressions;
using MeshBulkheads.LoadGen.Cli;
using MeshBulkheads.LoadGen.Running;

namespace MeshBulkheads.LoadGen.Thresholds;

/// <summary>
/// A k6-style pass/fail condition on one stream's result: <c>payments:p99&lt;50ms</c>,
/// <c>payments:ok&gt;=99%</c>, <c>reporting:rejected&gt;0</c>, <c>reporting:rejected.queue-full&gt;=1%</c>,
/// <c>payments:goodput&gt;=90</c>. <c>*</c> as the stream applies it to every stream.
/// </summary>
internal sealed partial record Threshold(string Text, string Stream, string Metric, string Operator, double Value, bool IsPercent)
{
    private static readonly string[] LatencyMetrics = ["p50", "p90", "p99", "p99.9", "max", "mean"];
    private static readonly string[] CountMetrics = ["ok", "rejected", "deadline", "errors", "offered"];

    public static Threshold Parse(string text)
    {
        var match = Grammar().Match(text.Trim());
        if (!match.Success)
        {
            throw new BadInputException($"threshold '{text}' is not stream:metric<op>value, e.g. 'payments:p99<50ms' or 'payments:ok>=99%'");
        }

        var stream = match.Groups["stream"].Value;
        var metric = match.Groups["metric"].Value.ToLowerInvariant();
        var op = match.Groups["op"].Value;
        var valueText = match.Groups["value"].Value.Trim();
        if (LatencyMetrics.Contains(metric))
        {
            var value = DurationText.Parse(valueText, $"threshold '{text}'");
            return new Threshold(text, stream, metric, op, value.TotalMilliseconds, false);
        }

        if (CountMetrics.Contains(metric) || metric.StartsWith("rejected.", StringComparison.Ordinal) || metric == "goodput")
        {
            var percent = valueText.EndsWith('%');
            var number = percent ? valueText[..^1] : metric == "goodput" && valueText.EndsWith("/s", StringComparison.Ordinal) ? valueText[..^2] : valueText;
            if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value) || value < 0 || (percent && value > 100))
            {
                throw new BadInputException($"threshold '{text}': '{valueText}' is not a count, a rate or a percentage 0–100%");
            }

            if (percent && metric is "goodput" or "offered")
            {
                throw new BadInputException($"threshold '{text}': {metric} takes a number, not a percentage");
            }

            return new Threshold(text, stream, metric, op, value, percent);
        }

        throw new BadInputException($"threshold '{text}': unknown metric '{metric}' (p50 p90 p99 p99.9 max mean ok rejected rejected.<reason> deadline errors offered goodput)");
    }

    /// <summary>Evaluates against every stream it names (each stream for <c>*</c>).</summary>
    public IEnumerable<ThresholdOutcome> Evaluate(IReadOnlyList<StreamResult> streams)
    {
        foreach (var stream in streams.Where(s => Stream == "*" || s.Name == Stream))
        {
            var actual = Actual(stream);
            var passed = Operator switch
            {
                "<" => actual < Value,
                "<=" => actual <= Value,
                ">" => actual > Value,
                ">=" => actual >= Value,
                "==" => Math.Abs(actual - Value) < 1e-9,
                "!=" => Math.Abs(actual - Value) >= 1e-9,
                _ => false,
            };
            var name = Stream == "*" ? $"{stream.Name}:{Text[(Text.IndexOf(':', StringComparison.Ordinal) + 1)..]}" : Text;
            yield return new ThresholdOutcome(name, passed, FormatActual(actual));
        }
    }

    private double Actual(StreamResult stream)
    {
        var latency = stream.LatencyMs;
        double count = Metric switch
        {
            "p50" => latency.P50,
            "p90" => latency.P90,
            "p99" => latency.P99,
            "p99.9" => latency.P999,
            "max" => latency.Max,
            "mean" => latency.Mean,
            "ok" => stream.Ok,
            "rejected" => stream.Rejected,
            "deadline" => stream.DeadlineExceeded,
            "errors" => stream.Errors,
            "offered" => stream.Offered,
            "goodput" => stream.Goodput,
            _ => stream.Outcomes.Where(o => o.Key.EndsWith("/" + Metric["rejected.".Length..], StringComparison.Ordinal)).Sum(o => (double)o.Value),
        };
        if (IsPercent)
        {
            return stream.Offered == 0 ? 0 : count * 100.0 / stream.Offered;
        }

        return count;
    }

    private string FormatActual(double actual) => LatencyMetrics.Contains(Metric)
        ? actual.ToString("0.###", CultureInfo.InvariantCulture) + "ms"
        : actual.ToString("0.##", CultureInfo.InvariantCulture) + (IsPercent ? "%" : Metric == "goodput" ? "/s" : string.Empty);

    [GeneratedRegex(@"^(?<stream>[^:\s]+)\s*:\s*(?<metric>[A-Za-z0-9.\-_]+)\s*(?<op><=|>=|==|!=|<|>)\s*(?<value>\S.*)$")]
    private static partial Regex Grammar();
}
