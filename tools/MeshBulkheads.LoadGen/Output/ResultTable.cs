using System.Globalization;
using MeshBulkheads.LoadGen.Running;
using Spectre.Console;

namespace MeshBulkheads.LoadGen.Output;

/// <summary>The end-of-run table: one row per stream, outcomes by status and reject reason.</summary>
internal static class ResultTable
{
    public static Table Build(RunResult result)
    {
        var title = $"meshload {Markup.Escape(result.Mode)} → {Markup.Escape(result.Target)}, {result.DurationSeconds:0.#}s, {result.Connections} connection(s), attempts {result.MaxAttempts}, pushback {result.Pushback}";
        var table = new Table { Title = new TableTitle(title), Border = TableBorder.Rounded };
        foreach (var column in new[] { "stream", "mode", "offered", "ok", "not ok (status/reason)", "deadline", "errors", "p50", "p90", "p99", "p99.9", "max", "goodput" })
        {
            table.AddColumn(new TableColumn(column) { Alignment = column is "stream" or "mode" or "not ok (status/reason)" ? Justify.Left : Justify.Right });
        }

        foreach (var stream in result.Streams)
        {
            var notOk = stream.Outcomes.Where(o => o.Key != "OK").Select(o => $"{o.Key} {o.Value}");
            var rejected = string.Join("\n", notOk.DefaultIfEmpty("-"));
            var latency = stream.LatencyMs;
            var mode = stream.TargetRate is { } rate ? $"open {rate.ToString("0.##", CultureInfo.InvariantCulture)}/s" : $"[yellow]CLOSED[/] {Markup.Escape(stream.Mode["closed-loop ".Length..])}";
            table.AddRow(
                Markup.Escape(stream.Name) + "\n[grey]" + Markup.Escape(stream.Method) + "[/]",
                mode,
                Count(stream.Offered),
                $"[green]{Count(stream.Ok)}[/] ({Percent(stream.Ok, stream.Offered)})",
                Markup.Escape(rejected),
                Count(stream.DeadlineExceeded),
                Count(stream.Errors),
                Ms(latency.P50, latency.Count),
                Ms(latency.P90, latency.Count),
                Ms(latency.P99, latency.Count),
                Ms(latency.P999, latency.Count),
                Ms(latency.Max, latency.Count),
                stream.Goodput.ToString("0.#", CultureInfo.InvariantCulture) + "/s");
        }

        var notes = new List<string>
        {
            "latency: OK calls, from the intended send time" + (result.Mode == "open-loop" ? string.Empty : "; CLOSED-LOOP streams measure from the actual send and hide queueing (coordinated omission)"),
            $"scheduling lag p99 {result.SchedulingLagP99Ms:0.0} ms, max {result.MaxSchedulingLagMs:0.0} ms" + (result.Valid ? string.Empty : " [red]INVALID RUN[/]"),
            $"calls that waited for a connection/stream slot: {result.CallsWaitedForConnection}",
        };
        var attempts = result.Streams.Sum(s => s.Attempts);
        var calls = result.Streams.Sum(s => s.Completed);
        if (result.MaxAttempts > 1)
        {
            notes.Add($"attempts per call {(calls == 0 ? 0 : attempts / (double)calls):0.00} ({attempts} attempts for {calls} calls)");
        }

        table.Caption = new TableTitle(string.Join(" · ", notes));
        return table;
    }

    private static string Count(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Percent(long part, long whole) =>
        whole == 0 ? "-" : (part * 100.0 / whole).ToString("0.#", CultureInfo.InvariantCulture) + "%";

    private static string Ms(double value, long count) =>
        count == 0 ? "-" : value.ToString(value < 10 ? "0.00" : "0.0", CultureInfo.InvariantCulture) + "ms";
}
