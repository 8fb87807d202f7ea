namespace MeshBulkheads.Chaos.Tests;

/// <summary>
/// The tests that run a live mesh as processes and judge it on timing (the local experiments, the scripts through the
/// kubectl shim). One collection, never parallel with anything in this assembly; and scripts/test.sh runs them by their
/// trait after every other test assembly has finished, so their bounds are measured on a machine they have to
/// themselves, as `make chaos` runs them (in parallel with the rest of the suite, a CI run once saw a 1 s gateway
/// deadline end 2.27 s after the call began, with reads on the same gateway at p99 1.6 s).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LiveMeshCollection
{
    public const string Name = "Live mesh";

    /// <summary>The trait scripts/test.sh selects these tests by: <c>--filter-trait "Runs=Alone"</c>.</summary>
    public const string RunsTrait = "Runs";

    public const string Alone = "Alone";
}
