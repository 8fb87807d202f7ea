using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace MeshBulkheads.Testing.Processes;

/// <summary>
/// A long-running child process a fixture starts (a host, Prometheus, redis-server): stdout and stderr are
/// read as they come, so the child never blocks on a full pipe, and the last lines are kept for failure
/// reports; each line is also offered to an optional observer. A tool run to completion is <see cref="Tool"/>.
/// </summary>
public sealed class ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly OutputRingBuffer _output;
    private readonly Action<string>? _onLine;
    private readonly string _name;

    /// <param name="start">What to run; stdout and stderr must be redirected.</param>
    /// <param name="outputLines">How many of the last lines to keep.</param>
    /// <param name="onLine">Sees every line (e.g. to read the ports a host logs).</param>
    /// <param name="onExited">Called when the process exits.</param>
    public ServerProcess(ProcessStartInfo start, int outputLines, Action<string>? onLine = null, Action? onExited = null)
    {
        _name = start.FileName;
        _output = new OutputRingBuffer(outputLines);
        _onLine = onLine;
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnOutput(e.Data);
        _process.ErrorDataReceived += (_, e) => OnOutput(e.Data);
        if (onExited is not null)
        {
            _process.Exited += (_, _) => onExited();
        }
    }

    /// <summary>The child's process id.</summary>
    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The last lines the process wrote to stdout and stderr.</summary>
    public string RecentOutput => _output.ToString();

    /// <summary>A free TCP port on 127.0.0.1 for a server that cannot bind port 0 and report it (it may be taken before the server binds it: retry).</summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>True when GET <paramref name="path"/> answers 200; false while the server is not accepting connections yet.</summary>
    public static async Task<bool> AnswersOkAsync(HttpClient client, string path, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative), cancellationToken);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            // Not accepting yet.
            return false;
        }
    }

    /// <exception cref="InvalidOperationException">The process could not be started.</exception>
    public void Start()
    {
        if (!_process.Start())
        {
            throw new InvalidOperationException($"Could not start {_name}.");
        }

        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>
    /// Runs <paramref name="probe"/> every <paramref name="pollInterval"/> until it says ready (true) or the
    /// process exits (false); a cancelled <paramref name="cancellationToken"/> (the caller's start timeout) throws.
    /// </summary>
    public async Task<bool> WaitUntilReadyAsync(Func<CancellationToken, Task<bool>> probe, TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        while (!_process.HasExited)
        {
            if (await probe(cancellationToken))
            {
                return true;
            }

            await Task.Delay(pollInterval, cancellationToken);
        }

        return false;
    }

    public Task WaitForExitAsync(CancellationToken cancellationToken = default) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>Kills the process tree if it still runs.</summary>
    /// <exception cref="InvalidOperationException">The process was never started.</exception>
    public void KillTree()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
    }

    /// <summary>
    /// Kills the process tree and waits up to <paramref name="timeout"/> for it to exit; never throws (a test
    /// run must not hang on a child, and one that does not exit is left to the OS). Says how it ended.
    /// </summary>
    public async Task<string> StopAsync(TimeSpan timeout)
    {
        try
        {
            KillTree();
            using var cancellation = new CancellationTokenSource(timeout);
            await _process.WaitForExitAsync(cancellation.Token);
            return string.Create(CultureInfo.InvariantCulture, $"exit code {_process.ExitCode}");
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
        {
            // Never started, or did not exit in time.
            return e.Message;
        }
    }

    /// <summary>
    /// Writes the recent output, headed by <paramref name="title"/>, to the current test's output when the
    /// test did not pass (or its result is not known yet), so a failure shows what the child said.
    /// </summary>
    public void ReportOutputIfTestFailed(string title)
    {
        var context = TestContext.Current;
        if (context.TestOutputHelper is { } output && context.TestState?.Result is not (TestResult.Passed or TestResult.Skipped))
        {
            output.WriteLine($"--- last output of {title} ---");
            output.WriteLine(RecentOutput);
        }
    }

    public void Dispose() => _process.Dispose();

    private void OnOutput(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Add(line);
        _onLine?.Invoke(line);
    }
}
