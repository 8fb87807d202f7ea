using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MeshBulkheads.Chaos.Local;

/// <summary>One finished call of meshload's <c>--call-log</c>.</summary>
internal sealed record CallRecord(
    string Stream,
    long Sequence,
    double DueMs,
    double EndMs,
    long RunStartUnixMs,
    string Status,
    string? Reason,
    string FirstAttempt,
    int Attempts,
    string? Account,
    long? AmountMinor,
    string? IdempotencyKey,
    string? PaymentId,
    bool? Replayed)
{
    public double LatencyMs => EndMs - DueMs;
}

/// <summary>What a meshload run returned: its exit code, its <c>--json</c> result and its call log.</summary>
internal sealed record LoadResult(int ExitCode, JsonObject Json, IReadOnlyList<CallRecord> Calls)
{
    /// <summary>The stream's result object.</summary>
    public JsonObject Stream(string name) =>
        Json["streams"]!.AsArray().Select(s => s!.AsObject()).FirstOrDefault(s => (string?)s["name"] == name)
        ?? throw new InvalidOperationException($"meshload's result has no stream '{name}'");

    public long Count(string stream, string field) => Stream(stream)[field]?.GetValue<long>() ?? 0;

    public double Latency(string stream, string percentile) => Stream(stream)["latencyMs"]?[percentile]?.GetValue<double>() ?? double.NaN;

    /// <summary>Outcome counts by <c>STATUS</c> or <c>STATUS/reason</c>.</summary>
    public IReadOnlyDictionary<string, long> Outcomes(string stream) =>
        Stream(stream)["outcomes"]?.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<long>(), StringComparer.Ordinal) ?? [];

    /// <summary>When a call ended, by the wall clock (the call log counts from the run's start, and gives that start's time).</summary>
    public static DateTimeOffset EndOf(CallRecord call) => DateTimeOffset.FromUnixTimeMilliseconds(call.RunStartUnixMs) + TimeSpan.FromMilliseconds(call.EndMs);

    /// <summary>When a call was due to be sent, by the wall clock.</summary>
    public static DateTimeOffset DueOf(CallRecord call) => DateTimeOffset.FromUnixTimeMilliseconds(call.RunStartUnixMs) + TimeSpan.FromMilliseconds(call.DueMs);

    /// <summary>The outcomes as a JSON object, for a journal's output.</summary>
    public JsonObject Summary(string stream)
    {
        var s = Stream(stream);
        return new JsonObject
        {
            ["offered"] = s["offered"]?.DeepClone(),
            ["ok"] = s["ok"]?.DeepClone(),
            ["outcomes"] = s["outcomes"]?.DeepClone(),
            ["p99Ms"] = s["latencyMs"]?["p99"]?.DeepClone(),
            ["maxMs"] = s["latencyMs"]?["max"]?.DeepClone(),
        };
    }
}

/// <summary>
/// Runs meshload (the built <c>MeshBulkheads.LoadGen</c>) against the local gateway with <c>--json</c>
/// and <c>--call-log</c>: the load of every experiment, its thresholds part of the hypothesis.
/// </summary>
internal sealed class MeshLoad(string root, string configuration, string runDirectory)
{
    private int _runs;

    /// <summary>Starts a run; <c>await</c> the task for its result. <paramref name="arguments"/> follow <c>meshload run</c>.</summary>
    public async Task<LoadResult> RunAsync(Uri gateway, IReadOnlyList<string> arguments, CancellationToken cancellationToken, string? cpus = null)
    {
        var n = Interlocked.Increment(ref _runs);
        var callLog = Path.Combine(runDirectory, string.Create(CultureInfo.InvariantCulture, $"load-{n}.calls.jsonl"));
        var assembly = MeshLayout.Assembly(root, MeshLayout.LoadGen, configuration);
        var start = new ProcessStartInfo(cpus is null ? "dotnet" : "taskset") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (cpus is not null)
        {
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(cpus);
            start.ArgumentList.Add("dotnet");
        }

        foreach (var a in new[] { "exec", assembly, "run", "--target", gateway.ToString().TrimEnd('/'), "--json", "--no-live", "--call-log", callLog, "--max-lag", "1s" })
        {
            start.ArgumentList.Add(a);
        }

        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start meshload");
        await using var stop = cancellationToken.Register(() =>
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
        });
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
        await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        var stdout = await output.ConfigureAwait(false);
        var stderr = await error.ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(runDirectory, string.Create(CultureInfo.InvariantCulture, $"load-{n}.log")), stderr + stdout, CancellationToken.None).ConfigureAwait(false);
        // 0 pass, 1 a threshold failed, 2 the schedule slipped past --max-lag (1 s here: the experiments judge
        // each call's outcome, and a busy 2-core machine must not void a run): each still has its result.
        if (process.ExitCode is not (0 or 1 or 2) || string.IsNullOrWhiteSpace(stdout))
        {
            throw new InvalidOperationException($"meshload exited {process.ExitCode}: {stderr.Trim().Split('\n').LastOrDefault()}");
        }

        var json = JsonNode.Parse(stdout)!.AsObject();
        var calls = File.Exists(callLog)
            ? File.ReadLines(callLog).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<CallRecord>(l, JsonOptions)!).ToArray()
            : [];
        return new LoadResult(process.ExitCode, json, calls);
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };
}
