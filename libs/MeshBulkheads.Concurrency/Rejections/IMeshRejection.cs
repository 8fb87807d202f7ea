namespace MeshBulkheads.Concurrency.Rejections;

/// <summary>
/// An exception that stands for a refusal (a partition mailbox, a database pool, a downstream budget, …): its wire form
/// is <see cref="Rejection"/>, status + reason + message + retry-after, thrown with <see cref="MeshRejection.ToRpcException"/>.
/// </summary>
/// <remarks>
/// The bulkhead's own <c>BulkheadRejectedException</c> stays free of the wire layer; <see cref="BulkheadRejectionMapper"/> maps it.
/// </remarks>
public interface IMeshRejection
{
    /// <summary>Gets the refusal as it goes on the wire.</summary>
    MeshRejection Rejection { get; }
}
