using System.Buffers;
using System.Security.Cryptography;

namespace MeshBulkheads.Render.Rendering;

/// <summary>Renders, encodes and hashes one image on the calling thread.</summary>
public static class RenderExecutor
{
    /// <summary>Runs the whole CPU-bound job synchronously; the caller decides which thread that is.</summary>
    public static RenderResult Execute(RenderParameters parameters, CancellationToken cancellationToken)
    {
        var length = parameters.Width * parameters.Height * 3;
        // Pooled: a 2048² image is a 12 MB buffer, which would otherwise land on the LOH per request.
        var rgb = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var iterations = MandelbrotRenderer.Render(parameters, rgb.AsSpan(0, length), cancellationToken);
            var png = PngEncoder.Encode(parameters.Width, parameters.Height, rgb.AsSpan(0, length));
            var sha256 = Convert.ToHexStringLower(SHA256.HashData(png));
            return new RenderResult(png, sha256, iterations);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rgb);
        }
    }
}
