namespace MeshBulkheads.Concurrency.Bulkheads;

/// <summary>
/// Thrown by <see cref="Bulkhead.ExecuteAsync{T}(BulkheadRequest, Func{CancellationToken, ValueTask{T}}, CancellationToken)"/>
/// when the bulkhead refuses the work. Map it to the wire with
/// <see cref="Rejections.BulkheadRejectionMapper.ToRejection(BulkheadRejectedException)"/>.
/// </summary>
/// <remarks>
/// The lease API (<see cref="Bulkhead.AcquireAsync(BulkheadRequest, CancellationToken)"/>) reports a refusal
/// as a rejected lease without throwing, which is what hot paths and interceptors use; this exception is
/// for callers that prefer to run a delegate and let a refusal unwind.
/// </remarks>
public sealed class BulkheadRejectedException : Exception
{
    /// <summary>Creates the exception for a refusal.</summary>
    /// <param name="rejection">What the bulkhead said.</param>
    public BulkheadRejectedException(BulkheadRejectedArguments rejection)
        : base($"Bulkhead '{rejection.BulkheadName}' rejected the request: {rejection.Reason}.")
    {
        Rejection = rejection;
    }

    /// <summary>Creates the exception with a message and no refusal details.</summary>
    public BulkheadRejectedException()
    {
    }

    /// <summary>Creates the exception with a message and no refusal details.</summary>
    /// <param name="message">The message.</param>
    public BulkheadRejectedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message, an inner exception and no refusal details.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public BulkheadRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>What the bulkhead said; <c>default</c> when the exception was created without it.</summary>
    public BulkheadRejectedArguments Rejection { get; }
}
