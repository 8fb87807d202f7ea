using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using MeshBulkheads.Testing.Processes;

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

    private ServerProcess? _process;
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
            Port = ServerProcess.FreeLoopbackPort();
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

        TempDirectories.TryDelete(_directory);
    }

    private static ServerProcess Start(string server, int port, string directory)
    {
        // No persistence (a test server never outlives the run), loopback only, logs to stdout.
        string[] arguments =
        [
            "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty,
            "--appendonly", "no", "--dir", directory, "--protected-mode", "no", "--daemonize", "no", "--loglevel", "warning",
        ];
        var process = new ServerProcess(Tool.StartInfo(server, arguments, directory), outputLines: 50);
        process.Start();
        return process;
    }

    /// <summary>Polls with a raw <c>PING</c> until the server answers <c>+PONG</c> (no client library needed).</summary>
    private static async Task<bool> WaitUntilReadyAsync(ServerProcess process, int port)
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        try
        {
            return await process.WaitUntilReadyAsync(ct => AnswersPingAsync(port, ct), TimeSpan.FromMilliseconds(50), timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task<bool> AnswersPingAsync(int port, CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), cancellationToken);
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer, cancellationToken);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            // Not listening yet.
            return false;
        }
    }

    private static async Task<string> StopAsync(ServerProcess process)
    {
        var how = await process.StopAsync(TimeSpan.FromSeconds(10));
        process.Dispose();
        return how;
    }
}
