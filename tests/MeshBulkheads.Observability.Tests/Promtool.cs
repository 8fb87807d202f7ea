using MeshBulkheads.Testing.Processes;

namespace MeshBulkheads.Observability.Tests;

/// <summary>Runs the real promtool (Debian package `prometheus`) as a child process, bounded in time.</summary>
internal static class Promtool
{
    /// <summary>The promtool executable; skips the test (fails under CI=true) when it is absent.</summary>
    public static string Require()
    {
        var path = ServerRequirement.FindExecutable("promtool", "/usr/bin");
        if (path is null)
        {
            ServerRequirement.Unavailable("promtool is not installed (apt-get install prometheus)");
        }

        return path!;
    }

    /// <summary>Runs promtool in <paramref name="workingDirectory"/>; the output is its stdout then its stderr.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string workingDirectory, CancellationToken cancellationToken, params string[] arguments)
    {
        var result = await Tool.RunAsync(Require(), arguments, workingDirectory, cancellationToken: cancellationToken);
        return (result.ExitCode, result.StandardOutput + result.StandardError);
    }
}
