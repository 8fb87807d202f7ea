namespace MeshBulkheads.Concurrency.Bulkheads;

/// <summary>What a caller tells the bulkhead about itself when it asks for a permit.</summary>
/// <param name="Deadline">When the caller stops waiting for the answer; <see langword="null"/> = no deadline.</param>
/// <param name="Tenant">The tenant (<c>x-tenant-id</c>), used by <see cref="BulkheadOptions.TenantMaxShare"/>; may be null.</param>
/// <param name="Criticality">Whether the request may be displaced from a full queue.</param>
/// <param name="LongLived">
/// The permit is held for a call whose length the caller, not the service, decides (a stream held for its life): its
/// hold time is no service time, so releasing it adds no sample to the service-time estimate (queue-wait estimate,
/// <see cref="BulkheadRejectionReason.DeadlineUnmeetable"/>, retry pushback) or the adaptive limit, and while it is held
/// the estimate counts one permit fewer turning over. The default is false.
/// </param>
public readonly record struct BulkheadRequest(
    DateTimeOffset? Deadline = null,
    string? Tenant = null,
    BulkheadCriticality Criticality = BulkheadCriticality.Critical,
    bool LongLived = false)
{
    /// <summary>A request with no deadline, no tenant, critical.</summary>
    public static BulkheadRequest Default => default;

    /// <summary>Creates a request whose deadline is <paramref name="timeout"/> from now on <paramref name="timeProvider"/>.</summary>
    /// <param name="timeout">The remaining time budget.</param>
    /// <param name="timeProvider">The clock the bulkhead uses.</param>
    /// <param name="tenant">The tenant, or null.</param>
    /// <param name="criticality">The criticality.</param>
    /// <returns>The request.</returns>
    public static BulkheadRequest WithTimeout(
        TimeSpan timeout,
        TimeProvider timeProvider,
        string? tenant = null,
        BulkheadCriticality criticality = BulkheadCriticality.Critical) =>
        new(timeProvider.GetUtcNow() + timeout, tenant, criticality);
}
