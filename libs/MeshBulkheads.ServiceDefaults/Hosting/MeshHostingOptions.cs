using System.ComponentModel.DataAnnotations;

namespace MeshBulkheads.ServiceDefaults.Hosting;

/// <summary>
/// Where a process listens: one HTTP/2-only (h2c) port for gRPC and one HTTP/1.1 admin port for
/// <c>/metrics</c>, <c>/healthz</c> and <c>/readyz</c>. Section <c>Mesh</c>; environment variables
/// <c>Mesh__GrpcPort</c>, <c>Mesh__AdminPort</c>, <c>Mesh__BindAddress</c>.
/// </summary>
public sealed class MeshHostingOptions
{
    public const string SectionName = "Mesh";

    /// <summary>The gRPC (h2c) port. 0 picks a free port (tests).</summary>
    [Range(0, 65535)]
    public int GrpcPort { get; set; }

    /// <summary>The admin HTTP/1.1 port. 0 picks a free port (tests).</summary>
    [Range(0, 65535)]
    public int AdminPort { get; set; }

    /// <summary>The address to bind. The default 127.0.0.1 keeps a local run private; containers use 0.0.0.0.</summary>
    [Required]
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>
    /// How long the process stays up, not ready, after a stop is requested, so load balancers stop
    /// sending before Kestrel stops. The default is 0; the Helm chart keeps 0 and uses a native
    /// <c>preStop.sleep</c> instead (docs/kubernetes.md, "Graceful shutdown"): this is the fallback where preStop is unavailable.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan ShutdownDelay { get; set; } = TimeSpan.Zero;
}
