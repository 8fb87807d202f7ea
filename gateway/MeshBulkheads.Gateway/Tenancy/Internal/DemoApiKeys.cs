using MeshBulkheads.Contracts.Identity;

namespace MeshBulkheads.Gateway.Tenancy.Internal;

/// <summary>
/// The API keys this repository ships for make run, the demo and the tests (appsettings.Development.json,
/// DemoTenants), kept only as SHA-256 hashes: a Production gateway refuses to start with any of them.
/// </summary>
internal static class DemoApiKeys
{
    // SHA-256 (hex) of acme-dev-key, globex-dev-key and initech-dev-key.
    private static readonly HashSet<string> Hashes = new(StringComparer.Ordinal)
    {
        "7f2e6802f17f6ba210bb387707340e4fa6d03de0347ddcc5dd4ece4439694fce",
        "12cad79350669be6df490bdd33bd12237b1b5c2b917224bf9b70b380e35c3e95",
        "db0679af6fafdfbdd9184996c9003080d63ed02b6e953392c19cbde1300a8bbc",
    };

    /// <summary>Whether <paramref name="keyHash"/> (<see cref="ApiKeyHash.Compute(ReadOnlySpan{char})"/>) is one of the shipped demo keys'.</summary>
    public static bool IsDemoKeyHash(byte[] keyHash) => Hashes.Contains(Convert.ToHexStringLower(keyHash));
}
