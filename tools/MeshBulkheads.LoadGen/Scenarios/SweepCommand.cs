using System.Diagnostics;
using System.Globalization;
using MeshBulkheads.LoadGen.Cli;
using MeshBulkheads.LoadGen.Output;
using MeshBulkheads.LoadGen.Running;
using Spectre.Console;

namespace MeshBulkheads.LoadGen.Scenarios;

/// <summary>One point of a sweep: the permit count and what the method did at the fixed offered load.</summary>
internal sealed record SweepPoint(int Permits, StreamResult Result);

/// <summary>
/// <c>meshload sweep</c>: one method at a fixed offered load for each permit count, restarting the
/// host per point with the permit setting in its environment (hosts start in seconds), then a table
/// and a plot of throughput and p99 against permits — "concurrency is not capacity": a CPU-bound
/// method goes flat past the cores while its p99 climbs.
/// </summary>
internal static class SweepCommand
{
    private static readonly int[] DefaultPermits = [1, 2, 4, 8, 16, 32, 64, 128];

    public static async Task<int> RunAsync(ParsedCommand command, MeshLoadIo io, CancellationToken cancellationToken)
    {
        if (command.HostCommand is null || command.HostAdmin is null || (command.Bulkhead is null && command.PermitKey is null))
        {
            throw new BadInputException("sweep needs --host 'command', --host-admin ADDRESS and --bulkhead NAME (or --permit-key KEY)");
        }

        if (command.Streams.Count != 1 || command.Streams[0].IsClosedLoop)
        {
            throw new BadInputException("sweep needs exactly one open-loop --stream (the fixed offered load)");
        }

        var permitKey = command.PermitKey ?? $"Bulkheads__{command.Bulkhead}__PermitLimit";
        var permits = command.Permits.Count > 0 ? command.Permits : [.. DefaultPermits];
        var points = new List<SweepPoint>();
        foreach (var permit in permits)
        {
            using var host = StartHost(command, permitKey, permit);
            try
            {
                await WaitReadyAsync(command.HostAdmin, host, io.Time, cancellationToken).ConfigureAwait(false);
                var plan = new RunPlan
                {
                    Target = command.Target,
            CaFile = command.CaFile,
                    Streams = command.Streams,
                    Duration = command.Duration ?? TimeSpan.FromSeconds(10),
                    Connections = command.Connections ?? 4,
                    MaxLag = command.MaxLag,
                    Label = $"{permitKey}={permit}",
                };
                plan.Validate();
                io.Error.WriteLine($"meshload: sweep {plan.Label}");
                var timeline = await MeshLoadApp.RunPlanAsync(plan, command with { Json = true }, io, cancellationToken).ConfigureAwait(false);
                points.Add(new SweepPoint(permit, timeline.Result!.Streams[0]));
            }
            finally
            {
                host.Kill(entireProcessTree: true);
                await host.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }

        io.Console.Write(Table(permitKey, points));
        if (command.PlotPath is not null)
        {
            await OutputFile.WriteAsync(command.PlotPath, Plot(command.Streams[0].Method.ToString(), permitKey, points), cancellationToken).ConfigureAwait(false);
            io.Error.WriteLine($"meshload: plot written to {command.PlotPath}");
        }

        return ExitCodes.Pass;
    }

    internal static Table Table(string permitKey, IReadOnlyList<SweepPoint> points)
    {
        var table = new Table { Title = new TableTitle($"sweep of {Markup.Escape(permitKey)}") };
        table.AddColumns("permits", "offered/s", "goodput/s", "ok %", "p50", "p99", "not ok");
        foreach (var (permits, r) in points)
        {
            table.AddRow(
                permits.ToString(CultureInfo.InvariantCulture),
                r.OfferedRate.ToString("0.#", CultureInfo.InvariantCulture),
                r.Goodput.ToString("0.#", CultureInfo.InvariantCulture),
                (r.Offered == 0 ? 0 : r.Ok * 100.0 / r.Offered).ToString("0.#", CultureInfo.InvariantCulture),
                r.LatencyMs.P50.ToString("0.0", CultureInfo.InvariantCulture) + "ms",
                r.LatencyMs.P99.ToString("0.0", CultureInfo.InvariantCulture) + "ms",
                Markup.Escape(string.Join(", ", r.Outcomes.Where(o => o.Key != "OK").Select(o => $"{o.Key} {o.Value}").DefaultIfEmpty("-"))));
        }

        return table;
    }

    /// <summary>Throughput (left axis) and p99 (right axis) against log-spaced permit counts, as SVG.</summary>
    internal static string Plot(string method, string permitKey, IReadOnlyList<SweepPoint> points)
    {
        var plot = new ScottPlot.Plot();
        double[] xs = [.. points.Select((_, i) => (double)i)];
        var goodput = plot.Add.Scatter(xs, [.. points.Select(p => p.Result.Goodput)]);
        goodput.LegendText = "goodput (calls/s)";
        var p99 = plot.Add.Scatter(xs, [.. points.Select(p => p.Result.LatencyMs.P99)]);
        p99.LegendText = "p99 (ms, right axis)";
        p99.Axes.YAxis = plot.Axes.Right;
        plot.Axes.Bottom.SetTicks(xs, [.. points.Select(p => p.Permits.ToString(CultureInfo.InvariantCulture))]);
        plot.Title($"{method}: throughput and p99 vs permits ({permitKey})");
        plot.XLabel("permits");
        plot.Axes.Left.Label.Text = "goodput (calls/s)";
        plot.Axes.Right.Label.Text = "p99 (ms)";
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        // Both axes from zero: a throughput axis that starts at 93 makes 7% look like a cliff.
        plot.Axes.SetLimitsY(0, Math.Max(1, points.Max(p => p.Result.Goodput)) * 1.15, plot.Axes.Left);
        plot.Axes.SetLimitsY(0, Math.Max(1, points.Max(p => p.Result.LatencyMs.P99)) * 1.15, plot.Axes.Right);
        plot.Axes.SetLimitsX(-0.3, points.Count - 0.7);
        return plot.GetSvgXml(800, 400);
    }

    private static Process StartHost(ParsedCommand command, string permitKey, int permits)
    {
        var parts = command.HostCommand!.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var start = new ProcessStartInfo(parts[0])
        {
            WorkingDirectory = command.HostDirectory ?? Environment.CurrentDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in parts.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment[permitKey] = permits.ToString(CultureInfo.InvariantCulture);
        foreach (var assignment in command.HostEnvironment)
        {
            var equals = assignment.IndexOf('=', StringComparison.Ordinal);
            start.Environment[assignment[..equals]] = assignment[(equals + 1)..];
        }

        var process = Process.Start(start) ?? throw new BadInputException($"could not start the host '{command.HostCommand}'");
        // Drain its output so a chatty host never blocks on a full pipe.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitReadyAsync(Uri admin, Process host, TimeProvider time, CancellationToken cancellationToken)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var started = time.GetTimestamp();
        while (time.GetElapsedTime(started) < TimeSpan.FromSeconds(60))
        {
            if (host.HasExited)
            {
                throw new BadInputException($"the host exited with code {host.ExitCode} before it was ready (a permit setting it rejects?)");
            }

            try
            {
                using var response = await client.GetAsync(new Uri(admin, "/readyz"), cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    // One more second: the gateway's active health check and connection pool catch up.
                    await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken).ConfigureAwait(false);
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), time, cancellationToken).ConfigureAwait(false);
        }

        throw new BadInputException($"the host did not answer {new Uri(admin, "/readyz")} within 60 s");
    }
}
