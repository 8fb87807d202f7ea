namespace MeshBulkheads.Payments.Database;

/// <summary>
/// How a <see cref="DbConnectionPool"/> tells a broken connection from a failed statement, and when it checks an
/// idle connection before handing it out. A server restart leaves every idle connection dead without the client
/// noticing until it writes: without validation the next <c>Size</c> calls would each fail on one.
/// </summary>
/// <param name="IsConnectionFailure">True when an exception means the connection (or the server) is gone, not that the statement failed.</param>
/// <param name="ValidateIdleAfter">An idle connection older than this is pinged (<c>SELECT 1</c>) before use; zero pings every time.</param>
/// <param name="OnBroken">Called once a broken connection was found (e.g. to clear the driver's own pool); may be null.</param>
public sealed record DbPoolHealth(Func<Exception, bool> IsConnectionFailure, TimeSpan ValidateIdleAfter, Action? OnBroken = null)
{
    /// <summary>No validation, no connection failures (an embedded database such as SQLite).</summary>
    public static DbPoolHealth None { get; } = new(static _ => false, TimeSpan.MaxValue);
}
