using System.ComponentModel.DataAnnotations;

namespace MeshBulkheads.Render;

/// <summary>
/// Render limits and worker-pool settings, section <c>Render</c>. Every value is finite and
/// validated at start-up (the generated <see cref="RenderOptionsValidator"/>); the README explains each default.
/// </summary>
/// <remarks>
/// <see cref="WorkerCount"/> is the source of the <c>render</c> bulkhead's <c>PermitLimit</c> (one permit per worker
/// thread), which therefore cannot be set itself. The bulkhead's queue is its own: <c>Bulkheads:render:QueueLimit</c>
/// and <c>Bulkheads:render:MaxQueueTime</c>.
/// </remarks>
public sealed class RenderOptions : IValidatableObject
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
    /// Dedicated render threads, and the source of the <c>render</c> bulkhead's <c>PermitLimit</c> (= this). The default
    /// (null) is <c>Environment.ProcessorCount − 1</c>, at least 1, so one core stays free for Kestrel, the thread pool and the GC.
    /// </summary>
    [Range(1, 256)]
    public int? WorkerCount { get; set; }

    /// <summary>Run the workers at below-normal priority (best effort; honoured where the OS allows). The default is true.</summary>
    public bool BelowNormalPriority { get; set; } = true;

    /// <summary>The per-tenant work budget (section <c>Render:TenantWorkBudget</c>).</summary>
    [ValidateObjectMembers]
    public TenantWorkBudgetOptions TenantWorkBudget { get; set; } = new();

    /// <summary>The pitfall switches (section <c>Render:Pitfalls</c>).</summary>
    public RenderPitfallOptions Pitfalls { get; set; } = new();

    /// <summary>The effective worker count: <see cref="WorkerCount"/>, or the default for this machine.</summary>
    public int EffectiveWorkers => WorkerCount ?? Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>The work units of the largest valid render: min(MaxWidth × MaxHeight, MaxPixels) × MaxIterations.</summary>
    public long MaxWorkUnits => Math.Min((long)MaxWidth * MaxHeight, MaxPixels) * MaxIterations;

    /// <summary>The rules between settings that attributes cannot express; the generated <see cref="RenderOptionsValidator"/> calls it.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // A request of all zeros must be valid: the defaults have to fit inside the maxima.
        if (MaxWidth < DefaultWidth)
        {
            yield return new ValidationResult($"Render:MaxWidth ({MaxWidth}) must be at least the default width {DefaultWidth}.", [nameof(MaxWidth)]);
        }

        if (MaxHeight < DefaultHeight)
        {
            yield return new ValidationResult($"Render:MaxHeight ({MaxHeight}) must be at least the default height {DefaultHeight}.", [nameof(MaxHeight)]);
        }

        if (MaxIterations < DefaultIterations)
        {
            yield return new ValidationResult($"Render:MaxIterations ({MaxIterations}) must be at least the default {DefaultIterations}.", [nameof(MaxIterations)]);
        }

        if (MaxPixels < (long)DefaultWidth * DefaultHeight)
        {
            yield return new ValidationResult($"Render:MaxPixels ({MaxPixels}) must be at least {DefaultWidth}×{DefaultHeight}.", [nameof(MaxPixels)]);
        }

        if (TenantWorkBudget.Burst is { } burst && burst < MaxWorkUnits)
        {
            yield return new ValidationResult($"Render:TenantWorkBudget:Burst ({burst}) must be at least the largest valid render's work, min(MaxWidth × MaxHeight, MaxPixels) × MaxIterations = {MaxWorkUnits}, or that render could never run.", [nameof(TenantWorkBudget)]);
        }
    }
}

/// <summary>
/// Section <c>Render:TenantWorkBudget</c>: how much render work (width × height × iterations) one tenant may
/// start per second, as a token bucket per <c>x-tenant-id</c>. A render beyond it → <c>RESOURCE_EXHAUSTED</c>,
/// <c>x-mesh-reject-reason: tenant-work-budget</c>, with the time until the bucket holds its cost as pushback.
/// </summary>
public sealed class TenantWorkBudgetOptions
{
    /// <summary>The default refill: about half of one worker (a worker runs ≈ 2–3.5 × 10⁸ work units/s here, README).</summary>
    public const long DefaultWorkUnitsPerSecond = 100_000_000;

    /// <summary>Whether the budget is enforced. The default is true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Work units one tenant's bucket gains per second. The default is 10⁸.</summary>
    [Range(1L, long.MaxValue)]
    public long WorkUnitsPerSecond { get; set; } = DefaultWorkUnitsPerSecond;

    /// <summary>
    /// The bucket's capacity in work units. The default (null) is the largest valid render's work
    /// (<see cref="RenderOptions.MaxWorkUnits"/>); it may not be smaller, or that render could never run.
    /// </summary>
    [Range(1L, long.MaxValue)]
    public long? Burst { get; set; }
}

/// <summary>
/// Pitfall switches, section <c>Render:Pitfalls</c>; every one is off by default. The bulkhead's own pitfall (an
/// unbounded queue) is <c>Bulkheads:render:Pitfalls:UnboundedQueue</c>.
/// </summary>
public sealed class RenderPitfallOptions
{
    /// <summary>
    /// Pitfall switch, never in production: render inline on the request thread (a shared thread-pool thread) instead
    /// of on the dedicated workers. Admission through the bulkhead is unchanged. The default is false; turn it on only
    /// to see why it is avoided.
    /// </summary>
    public bool Inline { get; set; }
}
