using System.Diagnostics;

namespace MeshBulkheads.Testing.Processes;

/// <summary>The outcome of a command line tool run to completion.</summary>
public sealed record ToolResult(string Command, int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>For assertion messages: the command, its exit code and what it printed.</summary>
    public override string ToString() =>
        $"`{Command}` exited {ExitCode}{Environment.NewLine}stderr:{Environment.NewLine}{StandardError}{Environment.NewLine}stdout (first 4000 chars):{Environment.NewLine}{(StandardOutput.Length > 4000 ? StandardOutput[..4000] : StandardOutput)}";
}

/// <summary>
/// Runs a command line tool (helm, node, promtool, initdb, git, ...) to completion, bounded in time, and
/// collects what it printed. A long-running server a fixture starts is a <see cref="ServerProcess"/> instead.
/// </summary>
public static class Tool
{
    /// <summary>How long a tool may run unless the caller says otherwise.</summary>
    public static TimeSpan DefaultTimeout { get; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Runs <paramref name="fileName"/> in <paramref name="workingDirectory"/> (default: the repository root);
    /// an <paramref name="environment"/> value of null removes an inherited variable.
    /// </summary>
    /// <exception cref="TimeoutException">The tool did not finish within <paramref name="timeout"/> (its process tree is killed).</exception>
    public static async Task<ToolResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        string? workingDirectory = null,
        TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        CancellationToken cancellationToken = default)
    {
        var start = StartInfo(fileName, arguments, workingDirectory ?? RepositoryLayout.Root);
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        var limit = timeout ?? DefaultTimeout;
        var command = string.Join(' ', new[] { Path.GetFileName(fileName) }.Concat(start.ArgumentList));
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{command} did not start.");
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cancellation.CancelAfter(limit);
        var stdout = process.StandardOutput.ReadToEndAsync(cancellation.Token);
        var stderr = process.StandardError.ReadToEndAsync(cancellation.Token);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} did not finish within {limit}.");
        }

        return new ToolResult(command, process.ExitCode, await stdout, await stderr);
    }

    /// <summary>A start without a shell, stdout and stderr redirected (a child never blocks on a full pipe if they are read).</summary>
    internal static ProcessStartInfo StartInfo(string fileName, IEnumerable<string> arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo(fileName)
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

        return start;
    }
}
