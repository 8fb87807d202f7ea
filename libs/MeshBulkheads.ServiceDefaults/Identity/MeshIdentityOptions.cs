namespace MeshBulkheads.ServiceDefaults.Identity;

/// <summary>
/// A service's identity keys (<c>Mesh:Identity</c>): the keys the gateway signs this service's tokens with, and
/// nothing else, so a service that can verify cannot mint for another (docs/security.md).
/// </summary>
public sealed class MeshIdentityOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Mesh:Identity";

    /// <summary>
    /// The live keys by key id (<c>Mesh:Identity:Keys:&lt;kid&gt;</c>), each the base64 of at least 32 random bytes. Two
    /// during a rotation: add the new one to every replica, switch the gateway's <c>Gateway:Identity:SigningKeyId</c>,
    /// then remove the old one. Required: a service with none refuses to start.
    /// </summary>
    public Dictionary<string, string> Keys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The audience this service verifies tokens for: its service name, set by the host (not configuration).</summary>
    public string Audience { get; set; } = string.Empty;
}
