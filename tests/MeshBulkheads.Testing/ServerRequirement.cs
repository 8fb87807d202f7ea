namespace MeshBulkheads.Testing;

/// <summary>
/// A test whose server (PostgreSQL, Redis, Prometheus, ...) is missing fails with a clear message
/// under <c>CI=true</c> and skips with the reason elsewhere.
/// </summary>
public static class ServerRequirement
{
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Skips (locally) or fails (CI) the current test with <paramref name="reason"/>.</summary>
    public static void Unavailable(string reason)
    {
        if (IsCi)
        {
            Assert.Fail(reason + " (CI=true: .ci/run must install it)");
        }

        Assert.Skip(reason);
    }

    /// <summary>Finds an executable on PATH or in the given extra directories; null when absent.</summary>
    public static string? FindExecutable(string name, params string[] extraDirectories)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var dir in extraDirectories.Concat(path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
