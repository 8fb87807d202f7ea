namespace MeshBulkheads.EndToEnd.Tests.InProcess;

/// <summary>The functional tests share one <see cref="InProcessMesh"/> (started with ample rate limits).</summary>
[CollectionDefinition(Name)]
public sealed class InProcessMeshCollection : ICollectionFixture<InProcessMesh>
{
    public const string Name = "in-process mesh";
}
