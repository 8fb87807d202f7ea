using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MeshBulkheads.Testing.Redis;

/// <summary>
/// A private <c>redis-server</c> for one test run (apt's <c>/usr/bin/redis-server</c>) on 127.0.0.1 and
/// a random free port, persistence off, working in a temp directory. Use it as an xunit v3 assembly
/// fixture (<c>[assembly: AssemblyFixture(typeof(RedisFixture))]</c>) so it starts once; tests isolate
/// themselves with their own key prefix. When redis-server is missing, <see cref="UnavailableReason"/>
/// says why and <see cref="EnsureAvailable"/> skips (or fails under <c>CI=true</c>).
/// </summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);

    private Process? _process;
    private string? _directory;

    /// <summary>Why the server could not start; null when it runs.</summary>
    public string? UnavailableReason { get; private set; }

    /// <summary>The server's TCP port on 127.0.0.1.</summary>
    public int Port { get; private set; }

    /// <summary>A StackExchange.Redis connection string for the server, e.g. <c>127.0.0.1:40123</c>.</summary>
    public string Configuration => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port}");

    /// <summary>Skips the current test (fails under CI) when the server is not running.</summary>
    public void EnsureAvailable()
    {
        if (UnavailableReason is not null)
        {
            ServerRequirement.Unavailable(UnavailableReason);
        }
    }

    public async ValueTask InitializeAsync()
    {
        var server = ServerRequirement.FindExecutable("redis-server", "/usr/bin", "/usr/local/bin");
        if (server is null)
        {
            UnavailableReason = "redis-server is not installed (apt-get install redis-server).";
            return;
        }

        _directory = Directory.CreateTempSubdirectory("meshbulkheads-redis-").FullName;
        // A free port can be taken between probing and binding: try a few.
        var errors = new StringBuilder();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            Port = FreePort();
            _process = Start(server, Port, _directory);
            if (await WaitUntilReadyAsync(_process, Port))
            {
                return;
            }

            errors.Append(CultureInfo.InvariantCulture, $"port {Port}: {await StopAsync(_process)} ");
            _process = null;
        }

        UnavailableReason = $"redis-server did not start within {StartTimeout.TotalSeconds} s: {errors}";
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await StopAsync(_process);
        }

        if (_directory is not null)
        {
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: it is a temp directory.
            }
        }
    }

    private static Process Start(string server, int port, string directory)
    {
        var start = new ProcessStartInfo(server)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // No persistence (a test server never outlives the run), loopback only, logs to stdout.
        foreach (var argument in new[]
        {
            "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty,
            "--appendonly", "no", "--dir", directory, "--protected-mode", "no", "--daemonize", "no", "--loglevel", "warning",
        })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {server}.");
        // Drain the pipes so the server never blocks on a full one.
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Polls with a raw <c>PING</c> until the server answers <c>+PONG</c> (no client library needed).</summary>
    private static async Task<bool> WaitUntilReadyAsync(Process process, int port)
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        while (!timeout.IsCancellationRequested && !process.HasExited)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray(), timeout.Token);
                var buffer = new byte[16];
                var read = await stream.ReadAsync(buffer, timeout.Token);
                if (Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal))
                {
                    return true;
                }
            }
            catch (SocketException)
            {
                // Not listening yet.
            }
            catch (OperationCanceledException)
            {
                break;
            }

            await Task.Delay(50, CancellationToken.None);
        }

        return false;
    }

    private static async Task<string> StopAsync(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await process.WaitForExitAsync(timeout.Token);
            return string.Create(CultureInfo.InvariantCulture, $"exit code {process.ExitCode}");
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
        {
            return e.Message;
        }
        finally
        {
            process.Dispose();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
