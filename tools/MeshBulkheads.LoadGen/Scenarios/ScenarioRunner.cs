using System.Globalization;
using MeshBulkheads.LoadGen.Cli;
using MeshBulkheads.LoadGen.Reporting;
using MeshBulkheads.LoadGen.Running;
using MeshBulkheads.LoadGen.Thresholds;
using Spectre.Console;

namespace MeshBulkheads.LoadGen.Scenarios;

/// <summary>Runs a library scenario's phases, or the capacity search.</summary>
internal static class ScenarioRunner
{
    private const double StepFactor = 1.5;
    private const int MaxSteps = 14;

    public static async Task<int> RunAsync(ParsedCommand command, MeshLoadIo io, CancellationToken cancellationToken)
    {
        var scenario = ScenarioLibrary.Find(command.ScenarioName!);
        var phases = scenario.Phases(command.Keys, command.RateScale);
        if (scenario.Name == "capacity")
        {
            return await CapacityAsync(command, phases[0], io, cancellationToken).ConfigureAwait(false);
        }

        if (command.Streams.Count > 0)
        {
            throw new BadInputException($"scenario {scenario.Name} has its own streams; use meshload run --stream … for your own");
        }

        var timelines = new List<RunTimeline>();
        foreach (var phase in phases)
        {
            var plan = PlanFor(command, phase, phase.Streams);
            io.Error.WriteLine($"meshload: scenario {phase.Label}: {scenario.Shows}");
            timelines.Add(await MeshLoadApp.RunPlanAsync(plan, command, io, cancellationToken).ConfigureAwait(false));
        }

        await MeshLoadApp.WriteReportAsync(command, timelines, io, cancellationToken).ConfigureAwait(false);
        var exit = MeshLoadApp.Finish([.. timelines.Select(t => t.Result!)], command, io);
        io.Error.WriteLine($"meshload: proof: {scenario.Proof}");
        return exit;
    }

    private static RunPlan PlanFor(ParsedCommand command, ScenarioPhase phase, IReadOnlyList<Streams.StreamSpec> streams)
    {
        var plan = new RunPlan
        {
            Target = command.Target,
            CaFile = command.CaFile,
            Streams = streams,
            Duration = command.Duration ?? phase.Duration,
            Connections = command.Connections ?? 4,
            MaxAttempts = command.MaxAttempts ?? phase.MaxAttempts,
            Pushback = command.Pushback ?? phase.Pushback,
            MaxLag = command.MaxLag,
            // Thresholds on the command line replace the scenario's own.
            Thresholds = command.Thresholds.Count > 0 ? command.Thresholds : ScenarioLibrary.ParseThresholds(phase.Thresholds),
            AdminTargets = MeshLoadApp.AdminTargets(command),
            Label = phase.Label,
        };
        plan.Validate();
        return plan;
    }

    /// <summary>
    /// Steps the rate by 1.5x until the SLO (thresholds; default p99 &lt; 100 ms and ok &gt;= 99%) breaks,
    /// then sizes the bulkhead from the last good step with Little's law: permits = rate × mean
    /// latency, MaxQueueTime = the p99 budget the service time leaves, queue = rate × MaxQueueTime.
    /// </summary>
    private static async Task<int> CapacityAsync(ParsedCommand command, ScenarioPhase phase, MeshLoadIo io, CancellationToken cancellationToken)
    {
        var stream = command.Streams.Count > 0 ? command.Streams[0] with { Name = "capacity" } : phase.Streams[0];
        var slo = command.Thresholds.Count > 0 ? command.Thresholds : [Threshold.Parse("capacity:p99<100ms"), Threshold.Parse("capacity:ok>=99%")];
        var sloP99 = slo.FirstOrDefault(t => t.Metric == "p99" && t.Operator is "<" or "<=")?.Value ?? 100;
        var steps = new Table { Title = new TableTitle($"capacity of {stream.Method} (SLO: {string.Join(", ", slo.Select(t => t.Text))})") };
        steps.AddColumns("rate/s", "goodput/s", "ok %", "mean", "p99", "SLO");
        var timelines = new List<RunTimeline>();
        StreamResult? lastGood = null;
        var rate = stream.Rate;
        for (var step = 0; step < MaxSteps; step++)
        {
            var spec = stream with { Rate = rate };
            var plan = PlanFor(command, phase with { Label = $"capacity step {step + 1}: {rate:0.#}/s" }, [spec]) with { Thresholds = slo };
            var timeline = await MeshLoadApp.RunPlanAsync(plan, command, io, cancellationToken).ConfigureAwait(false);
            timelines.Add(timeline);
            var result = timeline.Result!;
            var s = result.Streams[0];
            var met = result.Valid && result.Thresholds.All(t => t.Passed);
            steps.AddRow(
                rate.ToString("0.#", CultureInfo.InvariantCulture),
                s.Goodput.ToString("0.#", CultureInfo.InvariantCulture),
                (s.Offered == 0 ? 0 : s.Ok * 100.0 / s.Offered).ToString("0.#", CultureInfo.InvariantCulture),
                s.LatencyMs.Mean.ToString("0.0", CultureInfo.InvariantCulture) + "ms",
                s.LatencyMs.P99.ToString("0.0", CultureInfo.InvariantCulture) + "ms",
                !result.Valid ? "[red]invalid run[/]" : met ? "[green]met[/]" : "[red]broken[/]");
            if (!met)
            {
                break;
            }

            lastGood = s;
            rate *= StepFactor;
            if (cancellationToken.IsCancellationRequested)
            {
                break;
            }
        }

        await MeshLoadApp.WriteReportAsync(command, timelines, io, cancellationToken).ConfigureAwait(false);
        io.Console.Write(steps);
        if (lastGood is null)
        {
            io.Error.WriteLine($"meshload: the SLO broke at the first step ({stream.Rate:0.#}/s); start lower with --stream …,rate=");
            return ExitCodes.ThresholdFailed;
        }

        var recommendation = Recommend(lastGood.Goodput, lastGood.LatencyMs.Mean, lastGood.LatencyMs.P99, sloP99);
        io.Out.WriteLine(recommendation.Describe(stream.Method.ToString()));
        return ExitCodes.Pass;
    }

    /// <summary>Little's law sizing from a sustainable rate and its latencies (milliseconds).</summary>
    public static Recommendation Recommend(double rate, double meanMs, double p99Ms, double sloP99Ms)
    {
        var permits = Math.Max(1, (int)Math.Ceiling(rate * meanMs / 1000.0));
        var maxQueueMs = Math.Max(0, sloP99Ms - p99Ms);
        var queue = (int)Math.Ceiling(rate * maxQueueMs / 1000.0);
        return new Recommendation(rate, meanMs, permits, queue, TimeSpan.FromMilliseconds(maxQueueMs));
    }

    internal sealed record Recommendation(double Rate, double MeanMs, int Permits, int QueueLimit, TimeSpan MaxQueueTime)
    {
        public string Describe(string method) => string.Create(CultureInfo.InvariantCulture,
            $"sustainable {method}: {Rate:0.#}/s at mean {MeanMs:0.0} ms → PermitLimit {Permits} (L = λW = {Rate:0.#}/s × {MeanMs / 1000:0.0000} s), QueueLimit {QueueLimit} (λ × MaxQueueTime), MaxQueueTime {MaxQueueTime.TotalMilliseconds:0} ms (SLO p99 minus p99 at that rate)");
    }
}
