using System.Globalization;
using System.Text.Json;
using MeshBulkheads.LoadGen.Output;
using MeshBulkheads.LoadGen.Running;

namespace MeshBulkheads.LoadGen.Reporting;

/// <summary>One run read back from its <c>--json</c> file, labelled by the file's name.</summary>
internal sealed record ComparedRun(string Label, RunResult Result);

/// <summary>One figure of every compared run, formatted (the terminal table and the HTML report print the same rows).</summary>
internal sealed record ComparisonRow(string Figure, IReadOnlyList<string> Values);

/// <summary>
/// <c>meshload compare</c>'s model: runs side by side, per stream success, p50/p99, goodput, shed and deadline
/// counts, and, from the scraped bulkheads, the oldest queue age, the deepest queue and the most requests in flight seen.
/// </summary>
internal static class RunComparison
{
    /// <summary>Reads each file (one result, or a list of a scenario's phases) as meshload wrote it.</summary>
    public static List<ComparedRun> Load(IReadOnlyList<string> files)
    {
        var runs = new List<ComparedRun>();
        foreach (var file in files)
        {
            string text;
            try
            {
                text = File.ReadAllText(file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new BadInputException($"compare: cannot read {file}: {ex.Message}");
            }

            List<RunResult> results;
            try
            {
                results = text.TrimStart().StartsWith('[')
                    ? JsonSerializer.Deserialize(text, LoadGenJsonContext.Default.ListRunResult) ?? []
                    : [JsonSerializer.Deserialize(text, LoadGenJsonContext.Default.RunResult) ?? throw new JsonException("null")];
            }
            catch (JsonException ex)
            {
                throw new BadInputException($"compare: {file} is not meshload --json output ({ex.Message})");
            }

            var label = Path.GetFileNameWithoutExtension(file);
            for (var i = 0; i < results.Count; i++)
            {
                runs.Add(new ComparedRun(results.Count == 1 ? label : $"{label} #{i + 1}", results[i]));
            }
        }

        return runs;
    }

    public static List<ComparisonRow> Rows(IReadOnlyList<ComparedRun> runs)
    {
        var rows = new List<ComparisonRow>();
        void Add(string figure, Func<RunResult, string> value) => rows.Add(new ComparisonRow(figure, [.. runs.Select(r => value(r.Result))]));
        void AddStream(string stream, string figure, Func<StreamResult, string> value) =>
            Add($"{stream} {figure}", r => r.Streams.FirstOrDefault(s => s.Name == stream) is { } s ? value(s) : "-");

        foreach (var stream in runs.SelectMany(r => r.Result.Streams.Select(s => s.Name)).Distinct(StringComparer.Ordinal))
        {
            AddStream(stream, "success", s => s.Offered == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{s.Ok * 100.0 / s.Offered:0.0}% ({s.Ok}/{s.Offered})"));
            AddStream(stream, "p50", s => Ms(s.LatencyMs.P50, s.LatencyMs.Count));
            AddStream(stream, "p99", s => Ms(s.LatencyMs.P99, s.LatencyMs.Count));
            AddStream(stream, "goodput", s => string.Create(CultureInfo.InvariantCulture, $"{s.Goodput:0.0}/s"));
            AddStream(stream, "shed (rejected)", s => s.Rejected.ToString(CultureInfo.InvariantCulture));
            AddStream(stream, "deadline exceeded / errors", s => string.Create(CultureInfo.InvariantCulture, $"{s.DeadlineExceeded} / {s.Errors}"));
        }

        Add("oldest queue age (max scraped)", r => Peak(r, p => p.MaxOldestQueueAgeSeconds, v => string.Create(CultureInfo.InvariantCulture, $"{v:0.000} s")));
        Add("deepest queue (max scraped)", r => Peak(r, p => p.MaxQueued, v => v.ToString("0", CultureInfo.InvariantCulture)));
        // Without bounds nothing queues in a bulkhead (the wait moves into work in flight): the most held at once shows it.
        Add("most in flight (max active scraped)", r => Peak(r, p => p.MaxActive, v => v.ToString("0", CultureInfo.InvariantCulture)));
        Add("valid run (scheduling lag p99)", r => string.Create(CultureInfo.InvariantCulture, $"{(r.Valid ? "yes" : "INVALID")} ({r.SchedulingLagP99Ms:0.0} ms)"));
        return rows;
    }

    /// <summary>The largest value over the bulkheads, with the bulkhead that had it; "not scraped" without scrapes.</summary>
    private static string Peak(RunResult result, Func<BulkheadPeak, double> value, Func<double, string> format)
    {
        if (result.Bulkheads.Count == 0)
        {
            return "not scraped";
        }

        var top = result.Bulkheads.MaxBy(value)!;
        return value(top) <= 0 ? format(0) : $"{format(value(top))} ({top.Name})";
    }

    private static string Ms(double value, long count) =>
        count == 0 ? "-" : value.ToString(value < 10 ? "0.00" : "0.0", CultureInfo.InvariantCulture) + " ms";
}
