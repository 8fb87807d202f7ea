namespace MeshBulkheads.Render.Rendering;

/// <summary>An encoded image and what it cost.</summary>
/// <param name="Png">The PNG bytes (8-bit RGB).</param>
/// <param name="Sha256">Lowercase hex SHA-256 of <paramref name="Png"/>.</param>
/// <param name="InnerIterations">How many escape-time iterations ran in total: the render's cost.</param>
public sealed record RenderResult(byte[] Png, string Sha256, long InnerIterations);
