using System.Text.Json.Nodes;
using MeshBulkheads.Chaos.Engine;
using Spectre.Console.Testing;

namespace MeshBulkheads.Chaos.Tests.Engine;

/// <summary>
/// The runner's contract without a mesh: rollbacks run exactly once whatever ends the method, the
/// journal's status, deviation, verdict and exit code follow docs/chaos-journal.md.
/// </summary>
public sealed class ExperimentRunnerTests : IDisposable
{
    private readonly string _artifacts = Directory.CreateTempSubdirectory("meshchaos-tests-").FullName;

    public void Dispose() => Directory.Delete(_artifacts, recursive: true);

    [Fact]
    public async Task Run_HypothesisHolds_CompletedPassExitZeroAndRollbackOnce()
    {
        // Arrange
        var experiment = new ScriptedExperiment { AfterMet = true };

        // Act
        var (journal, path) = await RunAsync(experiment, unprotected: false, TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(JournalStatus.Completed, journal.Status);
        Assert.False(journal.Deviated);
        Assert.True(journal.Pass);
        Assert.Equal(0, journal.ExitCode);
        Assert.Equal(1, experiment.RolledBack);
        Assert.True(experiment.MethodRan);
        var json = JsonNode.Parse(await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken))!.AsObject();
        JournalShape.AssertValid(json);
        Assert.Equal("inject", (string?)json["run"]![0]!["activity"]!["name"]);
        Assert.Equal("undo the fault", (string?)json["rollbacks"]![0]!["activity"]!["name"]);
        Assert.Matches(@"scripted-\d{8}T\d{6}Z\.json$", path);
    }

    [Fact]
    public async Task Run_UnprotectedAndHypothesisFails_DeviatedPassExitOne()
    {
        // Arrange
        var experiment = new ScriptedExperiment { AfterMet = false };

        // Act
        var (journal, path) = await RunAsync(experiment, unprotected: true, TestContext.Current.CancellationToken);

        // Assert: the negative control did what it must; the exit code still says the hypothesis failed.
        Assert.True(journal.Deviated);
        Assert.True(journal.Pass);
        Assert.Equal(1, journal.ExitCode);
        Assert.StartsWith("PASS", journal.VerdictText, StringComparison.Ordinal);
        Assert.Contains("-unprotected-", path, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_UnprotectedAndHypothesisHolds_VerdictFails()
    {
        // Arrange: an experiment that cannot fail proves nothing.
        var experiment = new ScriptedExperiment { AfterMet = true };

        // Act
        var (journal, _) = await RunAsync(experiment, unprotected: true, TestContext.Current.CancellationToken);

        // Assert
        Assert.False(journal.Deviated);
        Assert.False(journal.Pass);
        Assert.StartsWith("FAIL", journal.VerdictText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_SteadyStateDoesNotHoldBefore_AbortedMethodNotRunRollbacksRun()
    {
        // Arrange
        var experiment = new ScriptedExperiment { BeforeMet = false };

        // Act
        var (journal, _) = await RunAsync(experiment, unprotected: false, TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(JournalStatus.Aborted, journal.Status);
        Assert.False(experiment.MethodRan);
        Assert.Null(journal.After);
        Assert.Equal(2, journal.ExitCode);
        Assert.Equal(1, experiment.RolledBack);
    }

    [Fact]
    public async Task Run_MethodActionThrows_FailedExitTwoRollbackOnce()
    {
        // Arrange
        var experiment = new ScriptedExperiment { MethodThrows = true };

        // Act
        var (journal, path) = await RunAsync(experiment, unprotected: false, TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(JournalStatus.Failed, journal.Status);
        Assert.Equal(2, journal.ExitCode);
        Assert.Equal(1, experiment.RolledBack);
        var json = JsonNode.Parse(await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken))!.AsObject();
        JournalShape.AssertValid(json);
        Assert.Equal("failed", (string?)json["run"]![0]!["status"]);
        Assert.Equal("failed", (string?)json["status"]);
    }

    [Fact]
    public async Task Run_CancelledDuringTheMethod_InterruptedExit130RollbackOnce()
    {
        // Arrange: the method blocks until cancelled, like a load run on Ctrl-C.
        using var stop = new CancellationTokenSource();
        var experiment = new ScriptedExperiment { BlockInMethod = true };
        var run = RunAsync(experiment, unprotected: false, stop.Token);
        await experiment.MethodEntered.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        // Act
        await stop.CancelAsync();
        var (journal, path) = await run;

        // Assert
        Assert.Equal(JournalStatus.Interrupted, journal.Status);
        Assert.Equal(130, journal.ExitCode);
        Assert.Equal(1, experiment.RolledBack);
        var json = JsonNode.Parse(await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken))!.AsObject();
        JournalShape.AssertValid(json);
        Assert.Equal("interrupted", (string?)json["status"]);
        Assert.Equal("signal", (string?)json["context"]!["interrupted"]);
    }

    [Fact]
    public async Task Run_RollbackThrows_OtherRollbacksStillRunAndAreRecorded()
    {
        // Arrange
        var experiment = new ScriptedExperiment { FirstRollbackThrows = true };

        // Act
        var (journal, _) = await RunAsync(experiment, unprotected: false, TestContext.Current.CancellationToken);

        // Assert: newest first; the failing one is recorded as failed and the older one still ran.
        Assert.Equal(["broken undo", "undo the fault"], journal.Rollbacks.Select(r => r.Name));
        Assert.False(journal.Rollbacks[0].Succeeded);
        Assert.True(journal.Rollbacks[1].Succeeded);
        Assert.Equal(1, experiment.RolledBack);
    }

    private async Task<(ChaosJournal Journal, string Path)> RunAsync(ScriptedExperiment experiment, bool unprotected, CancellationToken cancellationToken)
    {
        var settings = new ChaosSettings { Root = _artifacts, Artifacts = _artifacts, Configuration = "Debug" };
        var runner = new ExperimentRunner(settings, TimeProvider.System, new TestConsole(), TextWriter.Null);
        return await runner.RunAsync(experiment, unprotected, cancellationToken);
    }

    private sealed class ScriptedExperiment : ChaosExperiment
    {
        public bool BeforeMet { get; init; } = true;

        public bool AfterMet { get; init; } = true;

        public bool MethodThrows { get; init; }

        public bool BlockInMethod { get; init; }

        public bool FirstRollbackThrows { get; init; }

        public bool MethodRan { get; private set; }

        public int RolledBack { get; private set; }

        public TaskCompletionSource MethodEntered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override string Id => "scripted";

        public override string Title => "A scripted experiment";

        public override string Description => "Probes and method from the test.";

        public override string Promise => "nothing";

        public override string Protection => "nothing";

        public override string ClusterAdds => "nothing";

        public override string HypothesisTitle => "the probe says so";

        public override IReadOnlyList<(string Type, string Name)> MethodOutline => [("action", "inject")];

        public override IReadOnlyList<string> RollbackOutline => ["undo the fault"];

        public override IReadOnlyList<HypothesisProbe> Hypothesis(ExperimentContext context) =>
        [
            new("before probe", "== true", Phase.Before, _ => Task.FromResult(ProbeOutcome.Check(BeforeMet, BeforeMet))),
            new("after probe", "== true", Phase.After, _ => Task.FromResult(ProbeOutcome.Check(AfterMet, AfterMet))),
        ];

        public override Task SetUpAsync(ExperimentContext context, CancellationToken cancellationToken)
        {
            context.OnRollback("undo the fault", () =>
            {
                RolledBack++;
                return Task.CompletedTask;
            });
            if (FirstRollbackThrows)
            {
                context.OnRollback("broken undo", () => throw new InvalidOperationException("cannot undo"));
            }

            return Task.CompletedTask;
        }

        public override async Task MethodAsync(ExperimentContext context, CancellationToken cancellationToken)
        {
            MethodRan = true;
            await context.ActionAsync("inject", async ct =>
            {
                MethodEntered.TrySetResult();
                if (MethodThrows)
                {
                    throw new InvalidOperationException("the fault could not be injected");
                }

                if (BlockInMethod)
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
            }, cancellationToken);
            context.Measure("a number", "calls", 1, 2, 3);
        }
    }
}
