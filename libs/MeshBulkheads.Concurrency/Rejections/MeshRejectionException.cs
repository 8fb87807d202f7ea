namespace MeshBulkheads.Concurrency.Rejections;

/// <summary>
/// The base of the exceptions that stand for a refusal (a partition mailbox, a database pool, a fan-out cap, a
/// downstream budget, …): it carries the refusal's wire form, <see cref="Rejection"/>, built once by the thrower.
/// A derived type adds what its catcher needs beyond the wire form (a pool name, a partition index).
/// </summary>
public class MeshRejectionException : Exception, IMeshRejection
{
    /// <summary>Creates the exception with the rejection's message.</summary>
    /// <param name="rejection">The refusal as it goes on the wire.</param>
    /// <param name="innerException">The failure that caused the refusal, if any.</param>
    public MeshRejectionException(MeshRejection rejection, Exception? innerException = null)
        : this(rejection, rejection?.Message ?? string.Empty, innerException)
    {
    }

    /// <summary>Creates the exception with its own <paramref name="message"/> (for logs), which may differ from the caller's.</summary>
    /// <param name="rejection">The refusal as it goes on the wire.</param>
    /// <param name="message">The exception's message.</param>
    /// <param name="innerException">The failure that caused the refusal, if any.</param>
    public MeshRejectionException(MeshRejection rejection, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ArgumentNullException.ThrowIfNull(rejection);
        Rejection = rejection;
    }

    /// <inheritdoc/>
    public MeshRejection Rejection { get; }
}
