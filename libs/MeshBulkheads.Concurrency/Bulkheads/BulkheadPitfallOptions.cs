namespace MeshBulkheads.Concurrency.Bulkheads;

/// <summary>
/// Pitfall switches (<c>Bulkheads:&lt;name&gt;:Pitfalls</c>): each turns off one protection so its absence can be
/// seen and measured. Every switch is off by default. <b>Pitfall switch, never in production.</b>
/// </summary>
public sealed class BulkheadPitfallOptions
{
    /// <summary>
    /// Pitfall switch, never in production: the queue is unbounded. <see cref="BulkheadOptions.QueueLimit"/>
    /// is ignored, nobody is shed for waiting <see cref="BulkheadOptions.MaxQueueTime"/>, no request is turned
    /// away because its deadline is shorter than the expected wait, and a critical request never displaces a
    /// sheddable one (there is always room).
    /// </summary>
    /// <value>The default value is false.</value>
    /// <remarks>
    /// What stays: <see cref="BulkheadOptions.PermitLimit"/> (the work itself is still bounded), the tenant share,
    /// and a waiter whose deadline passes or whose caller cancels is removed and never started. The symptom is
    /// the one the bounded queue prevents: the queue (<c>meshbulkheads.bulkhead.queued_requests</c>,
    /// <c>queue.oldest_age</c>) grows with every arrival beyond <c>QueueLimit</c>, nothing is shed with a
    /// pushback, and latency grows with the backlog until callers time out.
    /// </remarks>
    public bool UnboundedQueue { get; set; }

    /// <summary>Returns a copy.</summary>
    /// <returns>The copy.</returns>
    public BulkheadPitfallOptions Clone() => new() { UnboundedQueue = UnboundedQueue };
}
