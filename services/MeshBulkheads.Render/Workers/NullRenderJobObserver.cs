using MeshBulkheads.Render.Rendering;

namespace MeshBulkheads.Render.Workers;

/// <summary>The default observer: does nothing.</summary>
public sealed class NullRenderJobObserver : IRenderJobObserver
{
    public void OnJobQueued(RenderParameters parameters)
    {
    }

    public void OnJobStarting(RenderParameters parameters)
    {
    }
}
