using System.Text.Json.Nodes;

namespace MeshBulkheads.Chaos.Engine;

/// <summary>Where a run's inputs come from and where its outputs go.</summary>
internal sealed record ChaosSettings
{
    /// <summary>The repository root (holds MeshBulkheads.sln).</summary>
    public required string Root { get; init; }

    /// <summary>The build whose hosts run: <c>Release</c> for <c>make chaos</c>, <c>Debug</c> in <c>make test</c>.</summary>
    public string Configuration { get; init; } = "Release";

    /// <summary>Where journals and host logs are written (<c>artifacts/chaos</c>).</summary>
    public required string Artifacts { get; init; }

    /// <summary>Shorter load phases (the runs of <c>make test</c>); the hypotheses stay the same.</summary>
    public bool Short { get; init; }

    /// <summary>Pin the hosts and the load to separate cores with <c>taskset</c> (CPU-sensitive experiments always do).</summary>
    public bool Pin { get; init; }
}

/// <summary>
/// What an experiment's steps record into: actions and probes into the journal, rollbacks onto a stack
/// the runner always unwinds, and the rows of the before/during/after table.
/// </summary>
internal sealed class ExperimentContext
{
    private readonly Stack<(string Name, Func<Task> Undo)> _rollbacks = new();
    private readonly TextWriter _log;

    public ExperimentContext(ChaosSettings settings, ChaosJournal journal, TimeProvider time, TextWriter log)
    {
        Settings = settings;
        Journal = journal;
        Time = time;
        _log = log;
        RunDirectory = Path.Combine(settings.Artifacts, "runs", journal.ExperimentId + (journal.Unprotected ? "-unprotected" : string.Empty));
        Directory.CreateDirectory(RunDirectory);
    }

    public ChaosSettings Settings { get; }

    public ChaosJournal Journal { get; }

    public TimeProvider Time { get; }

    /// <summary>The negative control: the experiment's protection is switched off.</summary>
    public bool Unprotected => Journal.Unprotected;

    /// <summary>This run's host logs and load logs.</summary>
    public string RunDirectory { get; }

    public void Log(string message) => _log.WriteLine($"meshchaos: {Journal.ExperimentId}{(Unprotected ? " (unprotected)" : string.Empty)}: {message}");

    /// <summary>Runs and records an action; a failure ends the method (status <c>failed</c>).</summary>
    public async Task<T> ActionAsync<T>(string name, Func<CancellationToken, Task<T>> action, Func<T, JsonNode?> output, CancellationToken cancellationToken)
    {
        Log(name);
        var start = Time.GetUtcNow();
        try
        {
            var result = await action(cancellationToken).ConfigureAwait(false);
            Journal.Run.Add(new ActivityRun("action", name, null, true, output(result), null, start, Time.GetUtcNow()));
            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Journal.Run.Add(new ActivityRun("action", name, null, false, "interrupted", null, start, Time.GetUtcNow()));
            throw;
        }
        catch (Exception ex) when (ex is not ActivityFailedException)
        {
            Journal.Run.Add(new ActivityRun("action", name, null, false, ex.Message, null, start, Time.GetUtcNow()));
            throw new ActivityFailedException(name, ex);
        }
    }

    /// <summary>An action without a result worth recording beyond its name.</summary>
    public Task ActionAsync(string name, Func<CancellationToken, Task> action, CancellationToken cancellationToken) =>
        ActionAsync(name, async ct =>
        {
            await action(ct).ConfigureAwait(false);
            return true;
        }, _ => null, cancellationToken);

    /// <summary>Registers an undo that runs after the method whatever happens (last registered, first run).</summary>
    public void OnRollback(string name, Func<Task> undo) => _rollbacks.Push((name, undo));

    /// <summary>Adds a row to the before/during/after table.</summary>
    public void Measure(string name, string unit, double? before, double? during, double? after) =>
        Journal.Measurements.Add(new Measurement(name, unit, before, during, after));

    /// <summary>Runs every registered rollback once, newest first, each bounded, none able to stop the others.</summary>
    internal async Task RollBackAsync()
    {
        while (_rollbacks.TryPop(out var rollback))
        {
            var start = Time.GetUtcNow();
            try
            {
                await rollback.Undo().WaitAsync(TimeSpan.FromSeconds(60), Time).ConfigureAwait(false);
                Journal.Rollbacks.Add(new ActivityRun("action", rollback.Name, null, true, null, null, start, Time.GetUtcNow()));
            }
            catch (Exception ex)
            {
                Log($"rollback '{rollback.Name}' failed: {ex.Message}");
                Journal.Rollbacks.Add(new ActivityRun("action", rollback.Name, null, false, ex.Message, null, start, Time.GetUtcNow()));
            }
        }
    }
}
