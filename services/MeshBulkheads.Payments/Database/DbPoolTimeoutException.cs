namespace MeshBulkheads.Payments.Database;

/// <summary>No pooled connection became free within <see cref="DatabaseOptions.MaxPoolWait"/>: the database is the bottleneck.</summary>
public sealed class DbPoolTimeoutException : Exception
{
    public DbPoolTimeoutException()
    {
    }

    public DbPoolTimeoutException(string message)
        : base(message)
    {
    }

    public DbPoolTimeoutException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The pool that was exhausted (<c>charge</c> or <c>read</c>).</summary>
    public string Pool { get; init; } = string.Empty;

    /// <summary>
    /// The pushback to send: the pool's <see cref="DatabaseOptions.MaxPoolWait"/> (bounded to 50 ms–30 s). No
    /// connection came free in one whole wait, so retrying sooner would most likely wait in vain again.
    /// </summary>
    public TimeSpan RetryAfter { get; init; }
}
