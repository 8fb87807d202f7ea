namespace MeshBulkheads.Reporting;

/// <summary>The names and code defaults of reporting's admission (registered by <c>AddReportingBulkheads()</c>).</summary>
public static class ReportingBulkheads
{
    /// <summary>The bulkhead in front of BuildReport.</summary>
    public const string Reports = "reporting";

    /// <summary>The bulkhead every downstream payments call acquires: the cap shared by all reports (<c>Bulkheads:reporting-fanout:PermitLimit</c>).</summary>
    public const string FanOut = "reporting-fanout";

    /// <summary>The gRPC method prefix routed to <see cref="Reports"/> and given the deadline policy.</summary>
    public const string MethodPrefix = "/meshbulkheads.reporting.v1.ReportingService/";

    /// <summary>BuildReport's default deadline: 100 accounts ÷ 4 in parallel × ≈ 20 ms ≈ 0.5 s of work, ten times over.</summary>
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(5);

    /// <summary>The longest deadline a BuildReport caller may ask for.</summary>
    public static readonly TimeSpan MaxDeadline = TimeSpan.FromSeconds(30);

    /// <summary>Code default of <c>Bulkheads:reporting-fanout:PermitLimit</c>: downstream calls all in-flight reports of this process run at once.</summary>
    public const int DefaultFanOutPermitLimit = 16;

    /// <summary>
    /// The <c>TenantMaxShare</c> of both reporting bulkheads: one tenant may hold at most half of a bulkhead's
    /// permits + queue slots (reporting: ceil(0.5 × (8 + 16)) = 12; reporting-fanout: ceil(0.5 × (16 + 32)) = 24),
    /// so a second tenant always finds room. <c>Bulkheads:&lt;name&gt;:TenantMaxShare</c> overrides it.
    /// </summary>
    public const double DefaultTenantMaxShare = 0.5;
}
