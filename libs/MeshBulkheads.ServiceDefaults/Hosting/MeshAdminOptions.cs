namespace MeshBulkheads.ServiceDefaults.Hosting;

/// <summary>
/// Section <c>Mesh:Admin</c>: who may change a running process through its admin port. Reads (<c>/metrics</c>,
/// <c>/healthz</c>, <c>/readyz</c>) need nothing; every admin write (<see cref="AdminWriteEndpoints.RequireAdminToken"/>,
/// e.g. the faults API) needs <c>Authorization: Bearer &lt;token&gt;</c>.
/// </summary>
public sealed class MeshAdminOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Mesh:Admin";

    /// <summary>The shortest token accepted.</summary>
    public const int MinTokenLength = 32;

    /// <summary>
    /// The admin token (at least 32 characters; `make run` generates one and prints it, the chart keeps it in a
    /// Secret). Empty: admin writes are not configured and answer 403.
    /// </summary>
    /// <value>The default value is empty (writes off).</value>
    public string Token { get; set; } = string.Empty;
}
