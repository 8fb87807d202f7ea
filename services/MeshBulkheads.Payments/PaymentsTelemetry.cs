using System.Diagnostics;

namespace MeshBulkheads.Payments;

/// <summary>Names of the payments service's meter, activity source, spans and tags.</summary>
public static class PaymentsTelemetry
{
    /// <summary>The meter and activity source name (like the assembly).</summary>
    public const string Name = "MeshBulkheads.Payments";

    /// <summary>Span for the time spent waiting for a pooled connection.</summary>
    public const string PoolWaitActivity = "db.pool.wait";

    /// <summary>Span for the database work itself, once a connection is held.</summary>
    public const string QueryActivity = "db.query";

    /// <summary>Which pool: <c>charge</c> or <c>read</c>.</summary>
    public const string PoolTag = "meshbulkheads.pool";

    /// <summary><c>sqlite</c> or <c>postgresql</c> (OpenTelemetry semantic convention).</summary>
    public const string DbSystemTag = "db.system";

    /// <summary>The logical operation, e.g. <c>charge</c>.</summary>
    public const string DbOperationTag = "db.operation.name";

    internal static readonly ActivitySource Source = new(Name);

    /// <summary>Starts a <c>db.query</c> span for <paramref name="operation"/> (null when nobody listens).</summary>
    internal static Activity? StartQuery(string operation, string dbSystem)
    {
        var activity = Source.StartActivity(QueryActivity, ActivityKind.Client);
        if (activity is not null)
        {
            activity.SetTag(DbSystemTag, dbSystem);
            activity.SetTag(DbOperationTag, operation);
        }

        return activity;
    }
}
