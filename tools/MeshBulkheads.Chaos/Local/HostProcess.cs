using System.Diagnostics;
using System.Runtime.InteropServices;

namespace MeshBulkheads.Chaos.Local;

/// <summary>
/// One process of the local mesh (a host, or meshload): started from the build output with its
/// configuration in environment variables, output appended to a log file, and stopped, killed and
/// started again on the same ports — what a Deployment does to a pod.
/// </summary>
internal sealed class HostProcess : IAsyncDisposable
{
    private const int SigTerm = 15;
    private readonly ProcessStartInfo _startInfo;
    private readonly string _logPath;
    private Process? _process;

    public HostProcess(string name, string fileName, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string> environment, string logPath, string? cpus = null)
    {
        Name = name;
        _logPath = logPath;
        _startInfo = new ProcessStartInfo(cpus is null ? fileName : "taskset")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (cpus is not null)
        {
            _startInfo.ArgumentList.Add("-c");
            _startInfo.ArgumentList.Add(cpus);
            _startInfo.ArgumentList.Add(fileName);
        }

        foreach (var argument in arguments)
        {
            _startInfo.ArgumentList.Add(argument);
        }

        foreach (var inherited in _startInfo.Environment.Keys.Where(k => k.StartsWith("OTEL_", StringComparison.Ordinal) || k is "ASPNETCORE_URLS" or "DOTNET_URLS" or "HTTP_PORTS").ToList())
        {
            _startInfo.Environment.Remove(inherited);
        }

        foreach (var (key, value) in environment)
        {
            _startInfo.Environment[key] = value;
        }
    }

    public string Name { get; }

    public bool IsRunning => _process is { HasExited: false };

    public int? ExitCode => _process is { HasExited: true } p ? p.ExitCode : null;

    public int ProcessId => _process?.Id ?? 0;

    public void Start()
    {
        _process?.Dispose();
        Directory.CreateDirectory(Path.GetDirectoryName(_logPath)!);
        var log = new StreamWriter(_logPath, append: true) { AutoFlush = true };
        var sync = new Lock();
        var process = new Process { StartInfo = _startInfo, EnableRaisingEvents = true };
        void Write(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (sync)
            {
                log.WriteLine(line);
            }
        }

        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        process.Exited += (_, _) =>
        {
            lock (sync)
            {
                log.Dispose();
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
    }

    /// <summary>SIGKILL: a crash, as far as every peer can tell.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15)).ConfigureAwait(false);
        }
    }

    /// <summary>SIGTERM and a wait (a graceful shutdown, as Kubernetes asks for one); SIGKILL after <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process is not { HasExited: false } process)
        {
            return;
        }

        _ = Kill(process.Id, SigTerm);
        try
        {
            await process.WaitForExitAsync().WaitAsync(grace).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await KillAsync().ConfigureAwait(false);
        }
    }

    public async Task WaitForExitAsync(CancellationToken cancellationToken)
    {
        if (_process is { } process)
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public string RecentLog(int lines = 20)
    {
        try
        {
            using var stream = new FileStream(_logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            return string.Join(Environment.NewLine, reader.ReadToEnd().Split('\n').TakeLast(lines));
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync().ConfigureAwait(false);
        _process?.Dispose();
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);
}
