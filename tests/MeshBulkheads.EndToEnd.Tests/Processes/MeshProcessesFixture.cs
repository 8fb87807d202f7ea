
namespace MeshBulkheads.EndToEnd.Tests.Processes;

/// <summary>One four-process mesh for the class (starting it costs a few seconds of JIT per process).</summary>
public sealed class MeshProcessesFixture : IAsyncLifetime
{
    private MeshProcesses? _mesh;

    public MeshProcesses Mesh => _mesh ?? throw new InvalidOperationException("The mesh is not started.");

    public async ValueTask InitializeAsync() => _mesh = await MeshProcesses.StartAsync(cancellationToken: TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_mesh is not null)
        {
            await _mesh.DisposeAsync();
        }
    }
}
