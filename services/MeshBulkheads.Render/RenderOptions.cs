using System.ComponentModel.DataAnnotations;

namespace MeshBulkheads.Render;

/// <summary>
/// Render limits and worker-pool settings, section <c>Render</c>. Every value is finite and
/// validated at start-up (see <see cref="RenderOptionsValidator"/>); the README explains each default.
/// </summary>
/// <remarks>
/// <see cref="Workers"/>, <see cref="QueueLimit"/> and <see cref="MaxQueueTime"/> become the
/// <c>PermitLimit</c>, <c>QueueLimit</c> and <c>MaxQueueTime</c> of the shared bulkhead
/// <c>render</c>; the other bulkhead settings may still be tuned under <c>Bulkheads:render</c>.
/// </remarks>
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
    /// Dedicated render threads, and the permits of the <c>render</c> bulkhead. The default (null) is
    /// <c>Environment.ProcessorCount − 1</c>, at least 1, so one core stays free for Kestrel, the thread pool and the GC.
    /// </summary>
    [Range(1, 256)]
    public int? Workers { get; set; }

    /// <summary>Renders that may wait for a worker (the <c>render</c> bulkhead's queue); beyond it → UNAVAILABLE queue-full. The default is 16.</summary>
    [Range(0, 10_000)]
    public int QueueLimit { get; set; } = 16;

    /// <summary>
    /// The longest a render may wait for a worker before it is shed with UNAVAILABLE queue-timeout (the
    /// <c>render</c> bulkhead's <c>MaxQueueTime</c>). The default is 2 seconds; it must stay below the
    /// Render method's default deadline.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:05:00")]
    public TimeSpan MaxQueueTime { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Run the workers at below-normal priority (best effort; honoured where the OS allows). The default is true.</summary>
    public bool BelowNormalPriority { get; set; } = true;

    /// <summary>
    /// Pitfall switch: render inline on the request thread (a shared thread-pool thread) instead of
    /// on the dedicated workers. Admission through the bulkhead is unchanged. The default is false;
    /// turn it on only to see why it is avoided.
    /// </summary>
    public bool Inline { get; set; }

    /// <summary>The other pitfall switches (section <c>Render:Pitfalls</c>).</summary>
    public RenderPitfallOptions Pitfalls { get; set; } = new();

    /// <summary>The effective worker count.</summary>
    public int EffectiveWorkers => Workers ?? Math.Max(1, Environment.ProcessorCount - 1);
}

/// <summary>Pitfall switches, section <c>Render:Pitfalls</c>; every one is off by default.</summary>
public sealed class RenderPitfallOptions
{
    /// <summary>
    /// Pitfall switch, never in production: sets the <c>render</c> bulkhead's <c>Pitfalls:UnboundedQueue</c>
    /// (no queue limit, no queue-time or deadline-unmeetable shedding): every render queues. The default is false.
    /// </summary>
    public bool UnboundedQueue { get; set; }
}
