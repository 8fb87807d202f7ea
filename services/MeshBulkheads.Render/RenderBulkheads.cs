namespace MeshBulkheads.Render;

/// <summary>The names and code defaults of render's admission (registered by <c>AddRenderBulkheads()</c>).</summary>
public static class RenderBulkheads
{
    /// <summary>The bulkhead every render is admitted through (the metric label <c>meshbulkheads_bulkhead="render"</c>).</summary>
    public const string Name = "render";

    /// <summary>The gRPC method prefix the deadline policy applies to.</summary>
    public const string MethodPrefix = "/meshbulkheads.render.v1.RenderService/";

    /// <summary>Default deadline of a Render call without <c>grpc-timeout</c>: a large render takes seconds on one worker.</summary>
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(10);

    /// <summary>The longest deadline a Render caller may ask for.</summary>
    public static readonly TimeSpan MaxDeadline = TimeSpan.FromSeconds(60);

    /// <summary>Code default of <c>Bulkheads:render:QueueLimit</c>: renders that may wait for a worker; beyond it → UNAVAILABLE queue-full.</summary>
    public const int DefaultQueueLimit = 16;

    /// <summary>
    /// Code default of <c>Bulkheads:render:MaxQueueTime</c>: the longest a render waits for a worker before it is shed
    /// with UNAVAILABLE queue-timeout; below the Render default deadline (checked at start).
    /// </summary>
    public static readonly TimeSpan DefaultMaxQueueTime = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Code default of <c>Bulkheads:render:TenantMaxShare</c>: one tenant holds at most half of the permits + queue
    /// slots (ceil(0.5 × (workers + 16))). With few workers this bounds queue slots more than workers; the per-tenant
    /// work budget (<c>Render:TenantWorkBudget</c>) bounds the work.
    /// </summary>
    public const double DefaultTenantMaxShare = 0.5;
}
