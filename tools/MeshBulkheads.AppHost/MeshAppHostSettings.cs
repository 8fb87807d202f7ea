using Microsoft.Extensions.Configuration;

namespace MeshBulkheads.AppHost;

/// <summary>
/// The ports and folders of one local mesh. Configuration (command line, environment or
/// appsettings): <c>MeshBulkheads:PortOffset</c> (default 0) shifts all eight ports, so a test
/// run can start a second mesh beside a <c>make run</c>; <c>MeshBulkheads:DataDirectory</c>
/// (default the repository's <c>data/</c>) holds the payments ledger.
/// </summary>
internal sealed record MeshAppHostSettings(
    MeshPorts Gateway, MeshPorts Payments, MeshPorts Reporting, MeshPorts Render, string PaymentsDataDirectory, IReadOnlyDictionary<string, string> IdentityKeys, string AdminToken)
{
    /// <summary>
    /// The identity keys by service (<c>MeshBulkheads:IdentityKeys:&lt;service&gt;</c>, base64 of 32 bytes): `make run` generates
    /// them and shares them with `make token` (artifacts/run/identity.env); missing ones are generated here, per start.
    /// </summary>
    public const string IdentityKeysKey = "MeshBulkheads:IdentityKeys";

    /// <summary>The admin token of every host (<c>MeshBulkheads:AdminToken</c>; `make run` generates and prints it), else generated here.</summary>
    public const string AdminTokenKey = "MeshBulkheads:AdminToken";

    /// <summary>The key id of the local keys.</summary>
    public const string IdentityKeyId = "dev";
    public const string PortOffsetKey = "MeshBulkheads:PortOffset";
    public const string DataDirectoryKey = "MeshBulkheads:DataDirectory";

    public static MeshAppHostSettings From(IDistributedApplicationBuilder builder)
    {
        var offset = builder.Configuration.GetValue(PortOffsetKey, 0);
        if (offset < 0 || offset + 9083 > 65535)
        {
            throw new InvalidOperationException($"{PortOffsetKey} = {offset} puts a port outside 1..65535; use 0..56452.");
        }

        var repositoryRoot = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", ".."));
        var dataDirectory = builder.Configuration[DataDirectoryKey] is { Length: > 0 } configured
            ? Path.GetFullPath(configured)
            : Path.Combine(repositoryRoot, "data");

        return new MeshAppHostSettings(
            Gateway: new MeshPorts(8080 + offset, 9080 + offset),
            Payments: new MeshPorts(8081 + offset, 9081 + offset),
            Reporting: new MeshPorts(8082 + offset, 9082 + offset),
            Render: new MeshPorts(8083 + offset, 9083 + offset),
            PaymentsDataDirectory: Path.Combine(dataDirectory, "payments"),
            IdentityKeys: new[] { "payments", "reporting", "render" }.ToDictionary(
                service => service,
                service => builder.Configuration[$"{IdentityKeysKey}:{service}"] is { Length: > 0 } key
                    ? key
                    : Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))),
            AdminToken: builder.Configuration[AdminTokenKey] is { Length: > 0 } token
                ? token
                : Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)));
    }
}
