using System.ComponentModel.DataAnnotations;

namespace MeshBulkheads.Render;

/// <summary>
/// Render limits and worker-pool settings, section <c>Render</c>. Every value is finite and
/// validated at start-up (see <see cref="RenderOptionsValidator"/>); the README explains each default.
/// </summary>
public sealed class RenderOptions
{
    public const string SectionName = "Render";

    public const int DefaultWidth = 256;
    public const int DefaultHeight = 256;
    public const int DefaultIterations = 200;

    /// <summary>Largest accepted width in pixels. The default is 2048.</summary>
    [Range(1, 16384)]
    public int MaxWidth { get; set; } = 2048;

    /// <summary>Largest accepted height in pixels. The default is 2048.</summary>
    [Range(1, 16384)]
    public int MaxHeight { get; set; } = 2048;

    /// <summary>Largest accepted escape-time iteration count per pixel. The default is 5000.</summary>
    [Range(1, 1_000_000)]
    public int MaxIterations { get; set; } = 5000;

    /// <summary>Largest accepted width × height (bounds the 3-bytes-per-pixel buffer). The default is 2048 × 2048.</summary>
    [Range(1L, 268_435_456L)]
    public long MaxPixels { get; set; } = 2048L * 2048L;

    /// <summary>
    /// Dedicated render threads. The default (null) is <c>Environment.ProcessorCount − 1</c>, at least 1,
    /// so one core stays free for Kestrel, the thread pool and the GC.
    /// </summary>
    [Range(1, 256)]
    public int? Workers { get; set; }

    /// <summary>Queued (not yet running) jobs beyond which a render is rejected with UNAVAILABLE. The default is 16.</summary>
    [Range(1, 10_000)]
    public int QueueLimit { get; set; } = 16;

    /// <summary>Run the workers at below-normal priority (best effort; honoured where the OS allows). The default is true.</summary>
    public bool BelowNormalPriority { get; set; } = true;

    /// <summary>
    /// Pitfall switch: render inline on the request thread (a shared thread-pool thread) instead of
    /// on the dedicated workers. The default is false; turn it on only to see why it is avoided.
    /// </summary>
    public bool Inline { get; set; }

    /// <summary>The effective worker count.</summary>
    public int EffectiveWorkers => Workers ?? Math.Max(1, Environment.ProcessorCount - 1);
}
