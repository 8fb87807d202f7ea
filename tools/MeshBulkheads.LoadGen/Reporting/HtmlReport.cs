using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using MeshBulkheads.LoadGen.Output;
using MeshBulkheads.LoadGen.Running;

namespace MeshBulkheads.LoadGen.Reporting;

/// <summary>
/// One self-contained HTML file: inline CSS, inline SVG plots drawn by ScottPlot, the run's JSON
/// embedded; no script, font, style sheet or image is fetched, so it opens offline.
/// </summary>
internal static partial class HtmlReport
{
    private const int Width = 900;
    private const int Height = 320;
    private static int s_plotNumber;

    public static string Render(IReadOnlyList<RunTimeline> runs)
    {
        var html = Head("meshload report");
        foreach (var run in runs)
        {
            RenderRun(html, run);
        }

        html.Append("</body></html>\n");
        return html.ToString();
    }

    /// <summary>
    /// <c>meshload compare</c>: the comparison table (one column per run), then each run's own table, bulkhead peaks,
    /// thresholds and JSON.
    /// </summary>
    public static string RenderComparison(IReadOnlyList<ComparedRun> runs, IReadOnlyList<ComparisonRow> rows)
    {
        var html = Head("meshload compare");
        html.Append(CultureInfo.InvariantCulture, $"<section><h2>Side by side: {E(string.Join(" vs ", runs.Select(r => r.Label)))}</h2>");
        html.Append("<table class=\"compare\"><tr><th>figure</th>");
        foreach (var run in runs)
        {
            html.Append(CultureInfo.InvariantCulture, $"<th>{E(run.Label)}</th>");
        }

        html.Append("</tr>");
        foreach (var row in rows)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(row.Figure)}</td>");
            foreach (var value in row.Values)
            {
                html.Append(CultureInfo.InvariantCulture, $"<td>{E(value)}</td>");
            }

            html.Append("</tr>");
        }

        html.Append("</table><p>Latency: OK calls, from the intended send time. Shed: rejected with a reason (and pushback). Queue figures: the processes' /metrics scraped during each run (the largest over every bulkhead, and which).</p></section>");
        foreach (var run in runs)
        {
            html.Append(CultureInfo.InvariantCulture, $"<section><h2>{E(run.Label)}</h2>");
            RenderResult(html, run.Result);
            if (run.Result.Bulkheads.Count > 0)
            {
                html.Append("<table><tr><th>bulkhead (scraped)</th><th>permit limit</th><th>max active</th><th>max queued</th><th>max oldest queue age</th></tr>");
                foreach (var b in run.Result.Bulkheads)
                {
                    html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(b.Name)}</td><td>{b.PermitLimit:0}</td><td>{b.MaxActive:0}</td><td>{b.MaxQueued:0}</td><td>{b.MaxOldestQueueAgeSeconds:0.000} s</td></tr>");
                }

                html.Append("</table>");
            }

            EmbedJson(html, run.Result);
            html.Append("</section>");
        }

        html.Append("</body></html>\n");
        return html.ToString();
    }

    private static StringBuilder Head(string title)
    {
        var html = new StringBuilder();
        html.Append("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>meshload report</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:960px}
            table{border-collapse:collapse;margin:1em 0;font-size:13px}
            td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;vertical-align:top}
            td:first-child,th:first-child{text-align:left}
            .fail{color:#b00;font-weight:bold}.pass{color:#070}
            figure{margin:1em 0}figcaption{font-size:13px;color:#555}
            .mode{background:#fff3cd;padding:2px 6px}
            </style></head><body>
            """);
        html.Append(CultureInfo.InvariantCulture, $"<h1>{E(title)}</h1>\n");
        return html;
    }

    private static void RenderRun(StringBuilder html, RunTimeline run)
    {
        var result = run.Result;
        html.Append(CultureInfo.InvariantCulture, $"<section><h2>{E(run.Label)}</h2>");
        if (result is not null)
        {
            RenderResult(html, result);
        }

        var streams = run.StreamSamples;
        foreach (var (name, samples) in streams)
        {
            var closed = result?.Streams.FirstOrDefault(s => s.Name == name)?.TargetRate is null && result is not null;
            Figure(html, $"Latency percentiles over time: {name}{(closed ? " (CLOSED loop: from the actual send)" : string.Empty)}", "ms (OK calls)",
            [
                Points("p50", samples, s => s.P50Ms),
                Points("p90", samples, s => s.P90Ms),
                Points("p99", samples, s => s.P99Ms),
            ]);
        }

        Figure(html, "Goodput vs offered", "calls/s",
            [.. streams.SelectMany(s => new[] { Points($"{s.Key} offered", s.Value, v => v.Offered), Points($"{s.Key} goodput", s.Value, v => v.Ok) })]);
        var rejections = streams.SelectMany(s => s.Value.SelectMany(v => v.NotOk.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(key => Points($"{s.Key} {key}", s.Value, v => v.NotOk.TryGetValue(key, out var n) ? n / v.LengthSeconds : 0))).ToList();
        Figure(html, "Rejections by reason over time", "calls/s", rejections);
        if (run.ScrapeCount > 0)
        {
            Figure(html, "Queue depth per bulkhead (scraped)", "queued requests", run.BulkheadSeries("meshbulkheads_bulkhead_queued_requests"));
            Figure(html, "Oldest queue age per bulkhead (scraped)", "seconds", run.BulkheadSeries("meshbulkheads_bulkhead_queue_oldest_age_seconds"));
            var limits = run.PermitLimits();
            Figure(html, "Permits in use per bulkhead (scraped)", "active requests",
                [.. run.BulkheadSeries("meshbulkheads_bulkhead_active_requests").Select(s => s with { Name = limits.TryGetValue(s.Name, out var l) ? $"{s.Name} (limit {l:0})" : s.Name })]);
        }
        else
        {
            html.Append("<p>No scrapes of the processes' /metrics during this run (pass --admin, or run with the default admin ports 9080-9083 listening).</p>");
        }

        if (result is not null)
        {
            EmbedJson(html, result);
        }

        html.Append("</section>");
    }

    /// <summary>The run's summary line, its stream table and its threshold verdicts.</summary>
    private static void RenderResult(StringBuilder html, RunResult result)
    {
        html.Append(CultureInfo.InvariantCulture, $"<p><span class=\"mode\">{E(result.Mode)}</span> against {E(Authority(result.Target))}, {result.DurationSeconds:0.#} s, {result.Connections} connection(s), attempts {result.MaxAttempts}, pushback {E(result.Pushback)}. Latency: OK calls, from the intended send time. Scheduling lag p99 {result.SchedulingLagP99Ms:0.0} ms{(result.Valid ? string.Empty : " — <span class=\"fail\">INVALID RUN</span>: " + E(result.InvalidReason ?? string.Empty))}. Calls that waited for a connection: {result.CallsWaitedForConnection}. Scrapes dropped (late): {result.ScrapesDropped}.</p>");
        html.Append("<table><tr><th>stream</th><th>mode</th><th>offered</th><th>ok</th><th>not ok (status/reason)</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th>goodput</th></tr>");
        foreach (var s in result.Streams)
        {
            var notOk = string.Join("<br>", s.Outcomes.Where(o => o.Key != "OK").Select(o => E($"{o.Key} {o.Value}")));
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(s.Name)} ({E(s.Method)})</td><td>{E(s.Mode)}</td><td>{s.Offered}</td><td>{s.Ok}</td><td>{(notOk.Length == 0 ? "-" : notOk)}</td><td>{s.LatencyMs.P50:0.0} ms</td><td>{s.LatencyMs.P90:0.0} ms</td><td>{s.LatencyMs.P99:0.0} ms</td><td>{s.LatencyMs.P999:0.0} ms</td><td>{s.LatencyMs.Max:0.0} ms</td><td>{s.Goodput:0.#}/s</td></tr>");
        }

        html.Append("</table>");
        if (result.Thresholds.Count > 0)
        {
            html.Append("<ul>");
            foreach (var t in result.Thresholds)
            {
                html.Append(CultureInfo.InvariantCulture, $"<li class=\"{(t.Passed ? "pass" : "fail")}\">{(t.Passed ? "passed" : "FAILED")}: {E(t.Threshold)} (actual {E(t.Actual)})</li>");
            }

            html.Append("</ul>");
        }
    }

    /// <summary>The numbers behind the page, for anyone who wants to re-plot them.</summary>
    private static void EmbedJson(StringBuilder html, RunResult result) =>
        html.Append("<script type=\"application/json\" id=\"meshload-result\">")
            // "\/" is JSON's escape for "/": no "</script>" can end the block, and the file holds no URL at all.
            .Append(JsonOutput.Serialize(result).Replace("/", "\\/", StringComparison.Ordinal))
            .Append("</script>");

    private static Series Points(string name, List<Running.IntervalSample> samples, Func<Running.IntervalSample, double?> value) =>
        new(name, [.. samples.Where(s => value(s) is not null).Select(s => (s.AtSeconds, value(s)!.Value))]);

    private static void Figure(StringBuilder html, string title, string yLabel, IReadOnlyList<Series> series)
    {
        var drawn = series.Where(s => s.Points.Count > 0).ToList();
        html.Append(CultureInfo.InvariantCulture, $"<figure data-plot=\"{E(title)}\">");
        if (drawn.Count == 0)
        {
            html.Append(CultureInfo.InvariantCulture, $"<figcaption>{E(title)}: no data</figcaption></figure>");
            return;
        }

        html.Append(Svg(title, yLabel, drawn));
        html.Append(CultureInfo.InvariantCulture, $"<figcaption>{E(title)}: {E(string.Join(", ", drawn.Select(s => s.Name)))}</figcaption></figure>");
    }

    /// <summary>A ScottPlot line chart as inline SVG (namespaces dropped: inline SVG in HTML needs none).</summary>
    internal static string Svg(string title, string yLabel, IReadOnlyList<Series> series)
    {
        var plot = new ScottPlot.Plot();
        foreach (var s in series)
        {
            var scatter = plot.Add.Scatter(s.Points.Select(p => p.X).ToArray(), s.Points.Select(p => p.Y).ToArray());
            scatter.LegendText = s.Name;
            scatter.MarkerSize = s.Points.Count == 1 ? 5 : 0;
            scatter.LineWidth = 2;
        }

        plot.Title(title);
        plot.XLabel("seconds into the run");
        plot.YLabel(yLabel);
        plot.Axes.Bottom.Min = 0;
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        var svg = plot.GetSvgXml(Width, Height);
        svg = XmlProlog().Replace(svg, string.Empty);
        svg = Namespace().Replace(svg, string.Empty);
        // Inline SVGs share the page's id space: ScottPlot names clip paths cl_1… in every plot, so each
        // plot's ids get their own prefix or one plot would clip by another's rectangle.
        var prefix = "p" + Interlocked.Increment(ref s_plotNumber).ToString(CultureInfo.InvariantCulture) + "_";
        return LocalId().Replace(svg, m => m.Groups[1].Value + prefix);
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Authority(string target) => Uri.TryCreate(target, UriKind.Absolute, out var uri) ? uri.Authority : target;

    [GeneratedRegex(@"(\bid=""|url\(#|href=""#)")]
    private static partial Regex LocalId();

    [GeneratedRegex(@"<\?xml[^>]*\?>")]
    private static partial Regex XmlProlog();

    [GeneratedRegex(@"\s+xmlns(:\w+)?=""[^""]*""")]
    private static partial Regex Namespace();
}
