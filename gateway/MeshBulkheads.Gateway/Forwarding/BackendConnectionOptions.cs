using System.ComponentModel.DataAnnotations;

namespace MeshBulkheads.Gateway.Forwarding;

/// <summary>
/// How the gateway's HTTP/2 connections to the backends notice a dead peer, section
/// <c>Gateway:Backends</c>. YARP's cluster <c>HttpClient</c> configuration has no such settings.
/// </summary>
public sealed class BackendConnectionOptions
{
    public const string SectionName = "Gateway:Backends";

    /// <summary>
    /// How long establishing a connection may take. The default is 5 seconds, well under the
    /// usual call deadline, so a black-holed destination fails over instead of eating the budget.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:05:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Idle time after which an HTTP/2 PING checks a connection. The default is 30 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan KeepAlivePingDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a PING may stay unanswered before the connection is closed. The default is 10 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
