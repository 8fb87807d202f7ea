namespace MeshBulkheads.Concurrency.Bulkheads;

/// <summary>
/// The mesh-wide pitfall switches, section <c>Mesh:Pitfalls</c> (the per-service ones are
/// <c>&lt;Service&gt;:Pitfalls:&lt;Name&gt;</c>). Read once at start; every switch is off by default.
/// <b>Pitfall switch, never in production.</b>
/// </summary>
public sealed class MeshPitfallOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Mesh:Pitfalls";

    /// <summary>The full key of <see cref="NoBulkheads"/> (environment: <c>Mesh__Pitfalls__NoBulkheads=true</c>).</summary>
    public const string NoBulkheadsKey = SectionName + ":" + nameof(NoBulkheads);

    /// <summary>The permit and queue limit every bulkhead gets under <see cref="NoBulkheads"/>: the largest valid value.</summary>
    public const int UnboundedLimit = 100_000;

    /// <summary>
    /// Pitfall switch, never in production: lifts exactly the admission bounds, in every process that has it on.
    /// Every bulkhead admits without bound (<see cref="BulkheadOptions.PermitLimit"/> and
    /// <see cref="BulkheadOptions.QueueLimit"/> <see cref="UnboundedLimit"/>, the queue unbounded as with
    /// <see cref="BulkheadPitfallOptions.UnboundedQueue"/>: no queue-time shedding and no deadline-aware admission,
    /// no tenant share, no adaptive limit), and the gateway's tenant rate limits are off (its route bulkheads are
    /// bulkheads, so they are unbounded too).
    /// </summary>
    /// <value>The default value is false.</value>
    /// <remarks>
    /// What stays, because it is a physical resource and not an admission bound: worker pools (render's permits are its
    /// worker threads, so the <c>render</c> bulkhead keeps <c>PermitLimit</c> = <c>Render:WorkerCount</c> and only its
    /// queue is lifted), the database connection pools, payments' charge mailboxes, reporting's per-report parallelism,
    /// Kestrel's own limits, message size limits and deadlines themselves (a call whose deadline has already passed
    /// still never starts). Logged at start as a warning; visible as <c>meshbulkheads_bulkhead_permit_limit</c> = 100000.
    /// <c>make demo</c> runs the mesh with and without it.
    /// </remarks>
    public bool NoBulkheads { get; set; }
}
