using System.Diagnostics;

namespace MeshBulkheads.Concurrency.Bulkheads;

/// <summary>Records a bulkhead's admission decision on a trace span, the same way wherever the permit was acquired.</summary>
/// <remarks>
/// <c>BulkheadInterceptor</c> calls it for routed methods; code that acquires a permit itself (render admits
/// after validating the request) calls it too, so every span shows the queue wait alike.
/// </remarks>
public static class BulkheadActivity
{
    /// <summary>
    /// Sets the tags <c>meshbulkheads.bulkhead.queue_time_s</c> and <c>meshbulkheads.bulkhead</c> and adds the event
    /// <c>meshbulkheads.bulkhead.dequeued</c> with the result; does nothing when <paramref name="activity"/> is null.
    /// </summary>
    /// <param name="activity">The span, usually <see cref="Activity.Current"/>; null when nobody listens.</param>
    /// <param name="bulkheadName">The bulkhead that decided.</param>
    /// <param name="lease">The lease it returned, acquired or rejected.</param>
    public static void Record(Activity? activity, string bulkheadName, BulkheadLease lease)
    {
        ArgumentNullException.ThrowIfNull(lease);
        if (activity is null)
        {
            return;
        }

        var seconds = lease.QueueTime.TotalSeconds;
        activity.SetTag(BulkheadConstants.QueueTimeActivityTag, seconds);
        activity.SetTag(BulkheadConstants.BulkheadTag, bulkheadName);
        activity.AddEvent(new ActivityEvent(BulkheadConstants.QueueActivityEvent, tags: new ActivityTagsCollection
        {
            [BulkheadConstants.BulkheadTag] = bulkheadName,
            [BulkheadConstants.ResultTag] = BulkheadConstants.Results.For(lease.Reason),
            [BulkheadConstants.QueueTimeActivityTag] = seconds,
        }));
    }
}
