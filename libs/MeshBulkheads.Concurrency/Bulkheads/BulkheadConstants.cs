using MeshBulkheads.Concurrency.Telemetry;

namespace MeshBulkheads.Concurrency.Bulkheads;

/// <summary>Names and defaults shared by the bulkhead, its metrics, its configuration and its documentation.</summary>
public static class BulkheadConstants
{
    /// <summary>The configuration section holding one sub-section per bulkhead (<c>Bulkheads:&lt;name&gt;</c>).</summary>
    public const string SectionName = "Bulkheads";

    /// <summary>The meter name (like the assembly).</summary>
    public const string MeterName = "MeshBulkheads.Concurrency";

    /// <summary>The attribute holding the bulkhead name (<see cref="MeshTelemetryTags.Bulkhead"/>); exported as the label <c>meshbulkheads_bulkhead</c>.</summary>
    public const string BulkheadTag = MeshTelemetryTags.Bulkhead;

    /// <summary>The attribute holding the outcome of an acquisition on <c>meshbulkheads.bulkhead.requests</c> (<see cref="MeshTelemetryTags.Result"/>, shared by every primitive).</summary>
    public const string ResultTag = MeshTelemetryTags.Result;

    /// <summary>The Activity tag recording how long the request waited for a permit, in seconds.</summary>
    public const string QueueTimeActivityTag = "meshbulkheads.bulkhead.queue_time_s";

    /// <summary>The Activity event added when a request leaves the queue.</summary>
    public const string QueueActivityEvent = "meshbulkheads.bulkhead.dequeued";

    /// <summary>Default of <see cref="BulkheadOptions.PermitLimit"/>.</summary>
    public const int DefaultPermitLimit = 32;

    /// <summary>Default of <see cref="BulkheadOptions.QueueLimit"/>.</summary>
    public const int DefaultQueueLimit = 64;

    /// <summary>Default of <see cref="BulkheadOptions.MaxQueueTime"/>.</summary>
    public static readonly TimeSpan DefaultMaxQueueTime = TimeSpan.FromMilliseconds(500);

    /// <summary>Default of <see cref="BulkheadOptions.CongestionThreshold"/>.</summary>
    public static readonly TimeSpan DefaultCongestionThreshold = TimeSpan.FromMilliseconds(100);

    /// <summary>The shortest retry pushback suggested to a rejected caller.</summary>
    public static readonly TimeSpan MinRetryAfter = TimeSpan.FromMilliseconds(50);

    /// <summary>The longest retry pushback suggested to a rejected caller.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(30);

    /// <summary>The result tag values of <c>meshbulkheads.bulkhead.requests</c>; those every primitive shares are <see cref="MeshTelemetryResults"/>'s.</summary>
    public static class Results
    {
        /// <summary>A permit was granted.</summary>
        public const string Acquired = "acquired";

        /// <summary>Rejected: queue full.</summary>
        public const string QueueFull = "queue_full";

        /// <summary>Shed after <see cref="BulkheadOptions.MaxQueueTime"/>.</summary>
        public const string QueueTimeout = "queue_timeout";

        /// <summary>Rejected because of the caller's deadline (unmeetable at admission, or passed while queued).</summary>
        public const string Deadline = MeshTelemetryResults.Deadline;

        /// <summary>The caller cancelled while queued.</summary>
        public const string Canceled = MeshTelemetryResults.Canceled;

        /// <summary>Rejected while the adaptive limit held the permit count below the configured limit.</summary>
        public const string AdaptiveLimit = "adaptive_limit";

        /// <summary>Rejected: the tenant held its maximum share.</summary>
        public const string TenantShare = "tenant_share";

        /// <summary>The bulkhead was disposed.</summary>
        public const string Disposed = "disposed";

        /// <summary>The result tag value for a reason.</summary>
        /// <param name="reason">The rejection reason (<see cref="BulkheadRejectionReason.None"/> = acquired).</param>
        /// <returns>The tag value.</returns>
        public static string For(BulkheadRejectionReason reason) => reason switch
        {
            BulkheadRejectionReason.None => Acquired,
            BulkheadRejectionReason.QueueFull => QueueFull,
            BulkheadRejectionReason.QueueTimeout => QueueTimeout,
            BulkheadRejectionReason.DeadlineUnmeetable or BulkheadRejectionReason.DeadlineExceeded => Deadline,
            BulkheadRejectionReason.Canceled => Canceled,
            BulkheadRejectionReason.AdaptiveLimit => AdaptiveLimit,
            BulkheadRejectionReason.TenantShare => TenantShare,
            _ => Disposed,
        };
    }
}
