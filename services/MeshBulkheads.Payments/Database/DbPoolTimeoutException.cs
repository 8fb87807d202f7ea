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
}
