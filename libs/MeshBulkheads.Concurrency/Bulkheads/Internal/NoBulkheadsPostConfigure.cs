using Microsoft.Extensions.Options;

namespace MeshBulkheads.Concurrency.Bulkheads.Internal;

/// <summary>
/// The one place <see cref="MeshPitfallOptions.NoBulkheads"/> reaches the bulkheads: after every configuration step of
/// every named bulkhead (code defaults, <c>Bulkheads:&lt;name&gt;</c>, derived limits), and so on every reload too.
/// </summary>
/// <remarks>
/// A bulkhead whose permits are a physical resource re-applies its derived limit after this (render registers its
/// <c>PermitLimit</c> = workers as a later post-configure step), so only its queue is lifted.
/// </remarks>
internal sealed class NoBulkheadsPostConfigure(IOptions<MeshPitfallOptions> pitfalls) : IPostConfigureOptions<BulkheadOptions>
{
    public void PostConfigure(string? name, BulkheadOptions options)
    {
        if (!pitfalls.Value.NoBulkheads)
        {
            return;
        }

        options.PermitLimit = MeshPitfallOptions.UnboundedLimit;
        options.QueueLimit = MeshPitfallOptions.UnboundedLimit;
        options.TenantMaxShare = 1.0;
        options.AdaptiveLimit.Enabled = false;
        // No queue-time shedding, no DeadlineUnmeetable (estimate-based) admission, no critical-displaces-sheddable.
        options.Pitfalls.UnboundedQueue = true;
    }
}
