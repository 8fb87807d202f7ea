using MeshBulkheads.LoadGen.Cli;
using MeshBulkheads.LoadGen.Output;
using MeshBulkheads.LoadGen.Running;
using MeshBulkheads.LoadGen.Scenarios;
using Spectre.Console;

namespace MeshBulkheads.LoadGen;

/// <summary>Where meshload writes, and its clock (tests pass a recording console and a fake clock).</summary>
internal sealed record MeshLoadIo(IAnsiConsole Console, TextWriter Out, TextWriter Error, TimeProvider Time, Func<string, string?> Environment, bool Interactive, TextReader? In = null);

/// <summary>meshload's commands: run, scenario, watch, sweep, compare, stream.</summary>
internal static class MeshLoadApp
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args, MeshLoadIo io, CancellationToken cancellationToken)
    {
        try
        {
            if (args.Count > 0 && args[0] == "token")
            {
                return TokenCommand.Run([.. args.Skip(1)], io);
            }

            if (args.Count > 0 && args[0] is "key-hash" or "key-new")
            {
                return args[0] == "key-hash" ? KeyCommand.Hash([.. args.Skip(1)], io) : KeyCommand.New([.. args.Skip(1)], io);
            }

            var command = CommandLine.Parse(args, io.Environment);
            switch (command.Kind)
            {
                case CommandKind.Help:
                    io.Out.WriteLine(CommandLine.Usage);
                    return ExitCodes.Pass;
                case CommandKind.ScenarioList:
                    foreach (var scenario in ScenarioLibrary.All)
                    {
                        io.Out.WriteLine($"{scenario.Name,-16} {scenario.Shows}");
                    }

                    return ExitCodes.Pass;
                case CommandKind.Watch:
                    return await Scraping.WatchCommand.RunAsync(command, io, cancellationToken).ConfigureAwait(false);
                case CommandKind.Compare:
                    return await Reporting.CompareCommand.RunAsync(command, io, cancellationToken).ConfigureAwait(false);
                case CommandKind.Stream:
                    return await RowStreams.RowStreamCommand.RunAsync(command.RowStream!, io, cancellationToken).ConfigureAwait(false);
                case CommandKind.Sweep:
                    return await Scenarios.SweepCommand.RunAsync(command, io, cancellationToken).ConfigureAwait(false);
                case CommandKind.Scenario:
                    return await ScenarioRunner.RunAsync(command, io, cancellationToken).ConfigureAwait(false);
                default:
                    var plan = PlanFrom(command);
                    var timeline = await RunPlanAsync(plan, command, io, cancellationToken).ConfigureAwait(false);
                    await WriteReportAsync(command, [timeline], io, cancellationToken).ConfigureAwait(false);
                    return Finish([timeline.Result!], command, io);
            }
        }
        catch (BadInputException ex)
        {
            io.Error.WriteLine("meshload: " + ex.Message);
            return ExitCodes.BadInput;
        }
    }

    /// <summary>Builds a plan from the command line and an optional scenario file (the command line wins).</summary>
    public static RunPlan PlanFrom(ParsedCommand command)
    {
        ScenarioFile? file = command.File is null ? null : ScenarioFile.Load(command.File, command.Keys);
        var plan = new RunPlan
        {
            Target = command.Target,
            CaFile = command.CaFile,
            Streams = [.. file?.Streams ?? [], .. command.Streams],
            Duration = command.Duration ?? file?.Duration ?? TimeSpan.FromSeconds(10),
            Connections = command.Connections ?? file?.Connections ?? 4,
            MaxAttempts = command.MaxAttempts ?? file?.MaxAttempts ?? 1,
            Pushback = command.Pushback ?? (file?.Pushback is "ignore" ? PushbackMode.Ignore : PushbackMode.Honour),
            MaxLag = command.MaxLag,
            Thresholds = [.. file?.Thresholds ?? [], .. command.Thresholds],
            AdminTargets = AdminTargets(command),
        };
        plan.Validate();
        return plan;
    }

    public static IReadOnlyList<Uri> AdminTargets(ParsedCommand command) =>
        command.AdminTargets.Count > 0 ? command.AdminTargets : command.ReportPath is null ? [] : ParsedCommand.DefaultAdminTargets;

    /// <summary>One run with progress; adds the threshold verdicts and the exit code to the result.</summary>
    public static async Task<Reporting.RunTimeline> RunPlanAsync(RunPlan plan, ParsedCommand command, MeshLoadIo io, CancellationToken cancellationToken)
    {
        await LoadRun.CheckReachableAsync(plan.Target, cancellationToken).ConfigureAwait(false);
        using var callLog = CallLog.Open(command.CallLogPath);
        var run = new LoadRun(plan, io.Time, callLog: callLog);
        var timeline = new Reporting.RunTimeline(plan.Label ?? "run");
        var progress = new LiveProgress(io.Console, io.Error, io.Interactive && !command.Json && !command.NoLive);
        await using var scraper = plan.AdminTargets.Count == 0 ? null : Scraping.MetricsScraper.Start(plan.AdminTargets, command.Interval, io.Time, timeline);
        var result = await progress.ShowAsync(run.RunAsync(new CompositeObserver(progress, timeline), cancellationToken), io.Time).ConfigureAwait(false);
        var verdicts = plan.Thresholds.SelectMany(t => t.Evaluate(result.Streams)).ToArray();
        var exit = !result.Valid ? ExitCodes.InvalidRun : verdicts.Any(v => !v.Passed) ? ExitCodes.ThresholdFailed : ExitCodes.Pass;
        result = result with { Thresholds = verdicts, ExitCode = exit, ScrapesDropped = scraper?.Dropped ?? 0, Bulkheads = timeline.BulkheadPeaks() };
        timeline.Result = result;
        return timeline;
    }

    public static async Task WriteReportAsync(ParsedCommand command, IReadOnlyList<Reporting.RunTimeline> timelines, MeshLoadIo io, CancellationToken cancellationToken)
    {
        if (command.ReportPath is null)
        {
            return;
        }

        await OutputFile.WriteAsync(command.ReportPath, Reporting.HtmlReport.Render(timelines), cancellationToken).ConfigureAwait(false);
        io.Error.WriteLine($"meshload: report written to {command.ReportPath}");
    }

    /// <summary>Prints the tables (or JSON), the failed thresholds, and returns the worst exit code.</summary>
    public static int Finish(IReadOnlyList<RunResult> results, ParsedCommand command, MeshLoadIo io)
    {
        if (command.Json)
        {
            io.Out.WriteLine(results.Count == 1 ? JsonOutput.Serialize(results[0]) : JsonOutput.Serialize([.. results]));
        }
        else
        {
            foreach (var result in results)
            {
                io.Console.Write(ResultTable.Build(result));
            }
        }

        foreach (var result in results)
        {
            if (!result.Valid)
            {
                io.Error.WriteLine("meshload: invalid run: " + result.InvalidReason);
            }

            foreach (var verdict in result.Thresholds)
            {
                io.Error.WriteLine($"meshload: threshold {(verdict.Passed ? "passed" : "FAILED")}: {verdict.Threshold} (actual {verdict.Actual})");
            }
        }

        return results.Any(r => r.ExitCode == ExitCodes.InvalidRun) ? ExitCodes.InvalidRun
            : results.Any(r => r.ExitCode == ExitCodes.ThresholdFailed) ? ExitCodes.ThresholdFailed
            : ExitCodes.Pass;
    }

    private sealed class CompositeObserver(params IRunObserver[] observers) : IRunObserver
    {
        public void OnInterval(TimeSpan elapsed, IReadOnlyList<(StreamStats Stats, IntervalSample Sample)> samples)
        {
            foreach (var observer in observers)
            {
                observer.OnInterval(elapsed, samples);
            }
        }
    }
}
