namespace MeshBulkheads.EndToEnd.Tests;

/// <summary>
/// End-to-end tests start whole meshes (child processes, the AppHost): they run one class at a time
/// so they do not fight over the two cores or each other's ports.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EndToEndCollection
{
    public const string Name = "EndToEnd";
}
