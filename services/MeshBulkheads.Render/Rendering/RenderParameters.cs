namespace MeshBulkheads.Render.Rendering;

/// <summary>A validated render request: positive sizes within the configured maxima.</summary>
public readonly record struct RenderParameters(int Width, int Height, int Iterations)
{
    /// <summary>The render's cost in work units: width × height × iterations (an upper bound on the inner-loop iterations).</summary>
    public long WorkUnits => (long)Width * Height * Iterations;
}
