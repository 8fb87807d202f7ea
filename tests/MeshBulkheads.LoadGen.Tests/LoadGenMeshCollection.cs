namespace MeshBulkheads.LoadGen.Tests;

/// <summary>
/// The classes that start a whole mesh in this test process (<see cref="LoadGenMesh"/>) and read its hosts' metrics
/// through their scrapes: never in parallel with each other or anything else here. Every in-process host exports every
/// meter of a name, so with two meshes alive a scrape of render can show the other render's histogram, and
/// meshload's before/after difference went negative in a CI run (rows −64).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LoadGenMeshCollection
{
    public const string Name = "LoadGen mesh";
}
