using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace MeshBulkheads.Chaos.Engine;

/// <summary>
/// Runs one experiment: set-up, the steady state before, the method, the steady state after, and the
/// rollbacks — always, also on failure, on Ctrl-C/SIGTERM (the run's cancellation token) and when the
/// experiment's time limit passes. Writes the journal to <c>&lt;artifacts&gt;/&lt;id&gt;[-unprotected]-&lt;utc&gt;.json</c>
/// and prints the before/during/after table and the one-line verdict.
/// </summary>
internal sealed class ExperimentRunner(ChaosSettings settings, TimeProvider time, IAnsiConsole console, TextWriter log)
{
    public async Task<(ChaosJournal Journal, string Path)> RunAsync(ChaosExperiment experiment, bool unprotected, CancellationToken cancellationToken)
    {
        var journal = new ChaosJournal
        {
            ExperimentId = experiment.Id,
            Title = experiment.Title,
            Description = experiment.Description,
            HypothesisTitle = experiment.HypothesisTitle,
            Unprotected = unprotected,
            Start = time.GetUtcNow(),
        };
        journal.Context["configuration"] = settings.Configuration;
        journal.Context["short"] = settings.Short;
        journal.Context["machine"] = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}";
        var context = new ExperimentContext(settings, journal, time, log);
        var probes = experiment.Hypothesis(context);

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(experiment.TimeLimit);
        try
        {
            await experiment.SetUpAsync(context, limit.Token).ConfigureAwait(false);
            journal.Before.AddRange(await EvaluateAsync(context, probes, Phase.Before, limit.Token).ConfigureAwait(false));
            if (!journal.BeforeMet)
            {
                journal.Status = JournalStatus.Aborted;
            }
            else
            {
                await experiment.MethodAsync(context, limit.Token).ConfigureAwait(false);
                journal.After = await EvaluateAsync(context, probes, Phase.After, limit.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            journal.Status = JournalStatus.Interrupted;
            journal.Context["interrupted"] = cancellationToken.IsCancellationRequested ? "signal" : $"time limit {experiment.TimeLimit.TotalSeconds:0} s";
        }
        catch (ActivityFailedException ex)
        {
            context.Log(ex.Message);
            journal.Status = JournalStatus.Failed;
        }
        finally
        {
            await context.RollBackAsync().ConfigureAwait(false);
            journal.End = time.GetUtcNow();
        }

        var outline = probes.Select(p => (p.Name, p.Tolerance)).ToArray();
        var json = journal.ToJson(outline, experiment.MethodOutline, experiment.RollbackOutline);
        var path = System.IO.Path.Combine(settings.Artifacts, string.Create(CultureInfo.InvariantCulture,
            $"{experiment.Id}{(unprotected ? "-unprotected" : string.Empty)}-{journal.Start.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}.json"));
        Directory.CreateDirectory(settings.Artifacts);
        await File.WriteAllTextAsync(path, ChaosJournal.Serialize(json), CancellationToken.None).ConfigureAwait(false);
        Print(journal, path);
        return (journal, path);
    }

    private static async Task<List<ActivityRun>> EvaluateAsync(ExperimentContext context, IReadOnlyList<HypothesisProbe> probes, Phase phase, CancellationToken cancellationToken)
    {
        var runs = new List<ActivityRun>();
        foreach (var probe in probes.Where(p => p.Phase.HasFlag(phase)))
        {
            var start = context.Time.GetUtcNow();
            ProbeOutcome outcome;
            try
            {
                outcome = await probe.Run(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                outcome = new ProbeOutcome(JsonValue.Create("probe error: " + ex.Message), false);
            }

            context.Log($"{phase.ToString().ToLowerInvariant()}: {probe.Name} ({probe.Tolerance}): {(outcome.Met ? "met" : "NOT met")} — {outcome.Output?.ToJsonString()}");
            runs.Add(new ActivityRun("probe", probe.Name, probe.Tolerance, true, outcome.Output, outcome.Met, start, context.Time.GetUtcNow()));
        }

        return runs;
    }

    private void Print(ChaosJournal journal, string path)
    {
        var table = new Table().Title($"{journal.ExperimentId}{(journal.Unprotected ? " (unprotected)" : string.Empty)}: {journal.Title}")
            .AddColumn("measurement").AddColumn(new TableColumn("before").RightAligned())
            .AddColumn(new TableColumn("during").RightAligned()).AddColumn(new TableColumn("after").RightAligned());
        foreach (var m in journal.Measurements)
        {
            table.AddRow(Markup.Escape($"{m.Name} ({m.Unit})"), Cell(m.Before), Cell(m.During), Cell(m.After));
        }

        foreach (var probe in journal.After ?? journal.Before)
        {
            table.AddRow(Markup.Escape(probe.Name), string.Empty, string.Empty, probe.ToleranceMet == true ? "[green]met[/]" : "[red]NOT met[/]");
        }

        console.Write(table);
        console.WriteLine(journal.VerdictText);
        console.WriteLine($"journal: {path}");
    }

    private static string Cell(double? value) => value is { } v ? v.ToString(v == Math.Floor(v) && Math.Abs(v) < 1e12 ? "0" : "0.###", CultureInfo.InvariantCulture) : "–";
}
