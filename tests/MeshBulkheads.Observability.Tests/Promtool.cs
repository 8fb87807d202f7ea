using System.Diagnostics;
using MeshBulkheads.Testing;

namespace MeshBulkheads.Observability.Tests;

/// <summary>Runs the real promtool (Debian package `prometheus`) as a child process, bounded in time.</summary>
internal static class Promtool
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

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

    public static async Task<(int ExitCode, string Output)> RunAsync(string workingDirectory, CancellationToken cancellationToken, params string[] arguments)
    {
        var start = new ProcessStartInfo(Require())
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("promtool did not start.");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Limit);
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"promtool {string.Join(' ', arguments)} did not finish within {Limit}.");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
