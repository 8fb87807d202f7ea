using System.Text.Json.Nodes;

namespace MeshBulkheads.Chaos.Engine;

/// <summary>When a steady-state probe runs: before the method, after it, or both.</summary>
[Flags]
internal enum Phase
{
    Before = 1,
    After = 2,
    Both = Before | After,
}

/// <summary>What a probe saw (its journal <c>output</c>) and whether that is within its tolerance.</summary>
internal sealed record ProbeOutcome(JsonNode? Output, bool Met)
{
    public static ProbeOutcome Check(bool met, JsonNode? output) => new(output, met);
}

/// <summary>A probe of the steady-state hypothesis, with its tolerance in words (as the journal shows it).</summary>
internal sealed record HypothesisProbe(
    string Name,
    string Tolerance,
    Phase Phase,
    Func<CancellationToken, Task<ProbeOutcome>> Run);

/// <summary>
/// One chaos experiment, in the Chaos Toolkit's shape: a steady-state hypothesis checked before and
/// after, a method, and rollbacks that always run. Each run gets a new instance, so an experiment keeps
/// what its method measured in fields for the probes after it. <see cref="ExperimentContext.Unprotected"/>
/// switches off the protection the experiment exercises (its negative control), and that run must deviate.
/// </summary>
internal abstract class ChaosExperiment
{
    /// <summary>Kebab-case id: the journal's file name and the command line's name.</summary>
    public abstract string Id { get; }

    public abstract string Title { get; }

    public abstract string Description { get; }

    /// <summary>What the mesh promises under this fault (docs/reliability.md).</summary>
    public abstract string Promise { get; }

    /// <summary>The protection <c>--unprotected</c> switches off (docs/reliability.md).</summary>
    public abstract string Protection { get; }

    /// <summary>What a cluster adds to this experiment (docs/reliability.md), and its k8s/chaos script if any.</summary>
    public abstract string ClusterAdds { get; }

    /// <summary>The test of <c>make test</c> that runs this experiment, if any.</summary>
    public virtual string? ProvenBy => null;

    public abstract string HypothesisTitle { get; }

    /// <summary>The longest a run may take before it is interrupted (its rollbacks still run).</summary>
    public virtual TimeSpan TimeLimit => TimeSpan.FromMinutes(3);

    /// <summary>The method's activities by name, for the journal's <c>experiment.method</c>.</summary>
    public abstract IReadOnlyList<(string Type, string Name)> MethodOutline { get; }

    /// <summary>The rollbacks by name, for the journal's <c>experiment.rollbacks</c>.</summary>
    public abstract IReadOnlyList<string> RollbackOutline { get; }

    /// <summary>The hypothesis' probes; <see cref="HypothesisProbe.Phase"/> says when each runs.</summary>
    public abstract IReadOnlyList<HypothesisProbe> Hypothesis(ExperimentContext context);

    /// <summary>Starts what the experiment needs (recorded as actions, stopped by registered rollbacks).</summary>
    public abstract Task SetUpAsync(ExperimentContext context, CancellationToken cancellationToken);

    /// <summary>Injects the fault under load and measures; registers a rollback for every fault it injects.</summary>
    public abstract Task MethodAsync(ExperimentContext context, CancellationToken cancellationToken);
}
