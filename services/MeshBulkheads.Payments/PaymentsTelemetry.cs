using System.Diagnostics;
using MeshBulkheads.Concurrency.Telemetry;
using MeshBulkheads.ServiceDefaults.Telemetry;

namespace MeshBulkheads.Payments;

/// <summary>Names of the payments service's meter, activity source, spans and its own tags (the shared ones are <see cref="MeshTelemetryTags"/>).</summary>
public static class PaymentsTelemetry
{
    /// <summary>The meter and activity source name (like the assembly).</summary>
    public const string Name = MeshTelemetry.Prefix + ".Payments";

    /// <summary>Span for the time spent waiting for a pooled connection.</summary>
    public const string PoolWaitActivity = "db.pool.wait";

    /// <summary>Span for the database work itself, once a connection is held.</summary>
    public const string QueryActivity = "db.query";

    /// <summary>The logical operation, e.g. <c>charge</c>.</summary>
    public const string DbOperationTag = "db.operation.name";

    internal static readonly ActivitySource Source = new(Name);

    /// <summary>Starts a <c>db.query</c> span for <paramref name="operation"/> (null when nobody listens).</summary>
    internal static Activity? StartQuery(string operation, string dbSystem)
    {
        var activity = Source.StartActivity(QueryActivity, ActivityKind.Client);
        if (activity is not null)
        {
            activity.SetTag(MeshTelemetryTags.DbSystem, dbSystem);
            activity.SetTag(DbOperationTag, operation);
        }

        return activity;
    }
}
