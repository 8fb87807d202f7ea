using MeshBulkheads.Chaos.Engine;
using MeshBulkheads.Chaos.Experiments;
using MeshBulkheads.Chaos.Local;
using MeshBulkheads.Chaos.Reliability;
using Spectre.Console;

namespace MeshBulkheads.Chaos;

/// <summary>The <c>meshchaos</c> command line: <c>list</c>, <c>run</c>, <c>report</c>.</summary>
internal static class ChaosApp
{
    public const string Usage = """
        meshchaos: chaos experiments with verdicts against a local mesh (docs/reliability.md).

          meshchaos list
          meshchaos run <experiment...|all> [--only protected|unprotected] [--short] [--configuration Release] [--artifacts artifacts/chaos]
          meshchaos report [--artifacts artifacts/chaos] [--out docs/reliability.md] [--command "make chaos"]

        Each experiment runs as shipped (its hypothesis must hold) and then with its protection switched off
        (the negative control: its hypothesis must fail). Journals: <artifacts>/<id>[-unprotected]-<utc>.json.
        Exit codes: 0 every verdict passed, 1 a verdict failed, 2 bad input or an experiment could not run, 130 interrupted.
        """;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (args.Count == 0 || args[0] is "-h" or "--help" or "help")
        {
            output.WriteLine(Usage);
            return args.Count == 0 ? 2 : 0;
        }

        try
        {
            var root = MeshLayout.FindRoot(Directory.GetCurrentDirectory());
            string Option(string name, string fallback)
            {
                var i = args.ToList().IndexOf(name);
                return i >= 0 && i + 1 < args.Count ? args[i + 1] : fallback;
            }

            var artifacts = Path.GetFullPath(Option("--artifacts", Path.Combine(root, "artifacts", "chaos")));
            switch (args[0])
            {
                case "list":
                    foreach (var id in ExperimentCatalog.Ids)
                    {
                        var experiment = ExperimentCatalog.Create(id);
                        output.WriteLine($"{id,-20} {experiment.Title}  (negative control: {experiment.Protection} off)");
                    }

                    return 0;
                case "report":
                    var journals = ReliabilityReport.LatestJournals(artifacts);
                    var markdown = ReliabilityReport.Render(journals, Option("--command", "make chaos"), TimeProvider.System);
                    var path = Path.GetFullPath(Option("--out", Path.Combine(root, "docs", "reliability.md")));
                    await File.WriteAllTextAsync(path, markdown, cancellationToken).ConfigureAwait(false);
                    output.WriteLine($"meshchaos: {path} written from {journals.Count} journals in {artifacts}");
                    return 0;
                case "run":
                    var settings = new ChaosSettings
                    {
                        Root = root,
                        Artifacts = artifacts,
                        Configuration = Option("--configuration", "Release"),
                        Short = args.Contains("--short"),
                    };
                    var only = Option("--only", "both");
                    var optionValues = new HashSet<string>(StringComparer.Ordinal) { Option("--only", "\0"), Option("--configuration", "\0"), Option("--artifacts", "\0") };
                    var ids = args.Skip(1).TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal) && !optionValues.Contains(a)).ToList();
                    if (ids.Count == 0 || ids.Contains("all"))
                    {
                        ids = [.. ExperimentCatalog.Ids];
                    }

                    if (only is not ("both" or "protected" or "unprotected"))
                    {
                        throw new ArgumentException($"--only must be protected or unprotected (got '{only}')");
                    }

                    return await RunExperimentsAsync(settings, ids, only, output, error, cancellationToken).ConfigureAwait(false);
                default:
                    throw new ArgumentException($"unknown command '{args[0]}'");
            }
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or FileNotFoundException)
        {
            error.WriteLine("meshchaos: " + ex.Message);
            return 2;
        }
    }

    public static async Task<int> RunExperimentsAsync(ChaosSettings settings, IReadOnlyList<string> ids, string only, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        foreach (var id in ids)
        {
            _ = ExperimentCatalog.Create(id);
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        var runner = new ExperimentRunner(settings, TimeProvider.System, console, error);
        var results = new List<ChaosJournal>();
        foreach (var id in ids)
        {
            foreach (var unprotected in new[] { false, true })
            {
                if ((only == "protected" && unprotected) || (only == "unprotected" && !unprotected))
                {
                    continue;
                }

                var (journal, _) = await runner.RunAsync(ExperimentCatalog.Create(id), unprotected, cancellationToken).ConfigureAwait(false);
                results.Add(journal);
                if (journal.Status == JournalStatus.Interrupted && cancellationToken.IsCancellationRequested)
                {
                    return 130;
                }
            }
        }

        var summary = new Table().Title("meshchaos verdicts").AddColumn("experiment").AddColumn("control").AddColumn("expect").AddColumn("status").AddColumn("deviated").AddColumn("verdict");
        foreach (var j in results)
        {
            summary.AddRow(j.ExperimentId, j.Unprotected ? "unprotected" : "protected", j.Expect, j.Status.ToString().ToLowerInvariant(), j.Deviated ? "yes" : "no", j.Pass ? "PASS" : "FAIL");
        }

        console.Write(summary);
        var passed = results.Count(j => j.Pass);
        console.WriteLine($"meshchaos: {passed} of {results.Count} verdicts passed");
        return results.Any(j => j.Status is JournalStatus.Aborted or JournalStatus.Failed) ? 2 : passed == results.Count ? 0 : 1;
    }
}
