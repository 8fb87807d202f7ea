using System.Diagnostics;
using System.Globalization;

namespace MeshBulkheads.Chaos.Local;

/// <summary>
/// A private PostgreSQL 15 server for one experiment: <c>initdb</c> in a temporary directory and
/// <c>pg_ctl start</c> on a loopback port (as <c>postgres</c> when run as root), killed with SIGKILL
/// (a crash: the postmaster and its backends die, committed transactions survive in the WAL) and started
/// again on the same port with the same data.
/// </summary>
internal sealed class LocalPostgres : IAsyncDisposable
{
    public const string BinDirectory = "/usr/lib/postgresql/15/bin";
    private const string User = "mesh";
    private readonly string _root;
    private readonly string _data;
    private readonly bool _asRoot = string.Equals(Environment.UserName, "root", StringComparison.Ordinal);

    private LocalPostgres(string root)
    {
        _root = root;
        _data = Path.Combine(root, "data");
        Port = MeshLayout.FreePort();
    }

    public int Port { get; }

    public string ConnectionString(string database = "payments") =>
        $"Host=127.0.0.1;Port={Port};Username={User};Database={database};Pooling=true;Timeout=5;Command Timeout=10";

    public static bool IsInstalled => File.Exists(Path.Combine(BinDirectory, "initdb"));

    public static async Task<LocalPostgres> StartAsync(CancellationToken cancellationToken)
    {
        if (!IsInstalled)
        {
            throw new InvalidOperationException($"PostgreSQL 15 is not installed ({BinDirectory}/initdb missing): scripts/ensure-deps.sh apt installs it");
        }

        var server = new LocalPostgres(Path.Combine(Path.GetTempPath(), "meshchaos-pg-" + Guid.NewGuid().ToString("N")[..10]));
        Directory.CreateDirectory(server._root);
        if (server._asRoot)
        {
            await RunAsync("chown", ["postgres:postgres", server._root], asPostgres: false, cancellationToken).ConfigureAwait(false);
        }

        await server.Run(Path.Combine(BinDirectory, "initdb"), ["-D", server._data, "-A", "trust", "-U", User, "--no-sync", "-E", "UTF8", "--locale=C"], cancellationToken).ConfigureAwait(false);
        await server.StartServerAsync(cancellationToken).ConfigureAwait(false);
        await server.Run(Path.Combine(BinDirectory, "createdb"), ["-h", "127.0.0.1", "-p", server.Port.ToString(CultureInfo.InvariantCulture), "-U", User, "payments"], cancellationToken).ConfigureAwait(false);
        return server;
    }

    public Task StartServerAsync(CancellationToken cancellationToken) =>
        Run(Path.Combine(BinDirectory, "pg_ctl"),
            ["-D", _data, "-w", "-t", "30", "-l", Path.Combine(_root, "server.log"),
             "-o", $"-p {Port} -h 127.0.0.1 -k {_root} -c fsync=off -c full_page_writes=off -c max_connections=200", "start"],
            cancellationToken);

    /// <summary>SIGKILL to the postmaster (its pid from <c>postmaster.pid</c>); waits until the port is closed.</summary>
    public async Task KillAsync(CancellationToken cancellationToken)
    {
        var pidFile = Path.Combine(_data, "postmaster.pid");
        if (!File.Exists(pidFile))
        {
            return;
        }

        var pid = int.Parse((await File.ReadAllLinesAsync(pidFile, cancellationToken).ConfigureAwait(false))[0], CultureInfo.InvariantCulture);
        try
        {
            using var postmaster = Process.GetProcessById(pid);
            postmaster.Kill(entireProcessTree: true);
            await postmaster.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Run(Path.Combine(BinDirectory, "pg_ctl"), ["-D", _data, "-m", "immediate", "-w", "stop"], CancellationToken.None).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            await KillAsync(CancellationToken.None).ConfigureAwait(false);
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private Task Run(string file, IReadOnlyList<string> arguments, CancellationToken cancellationToken) => RunAsync(file, arguments, _asRoot, cancellationToken);

    private static async Task RunAsync(string file, IReadOnlyList<string> arguments, bool asPostgres, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(asPostgres ? "runuser" : file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (asPostgres)
        {
            foreach (var a in new[] { "-u", "postgres", "--", file })
            {
                start.ArgumentList.Add(a);
            }
        }

        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', arguments)} exited {process.ExitCode}: {await error.ConfigureAwait(false)}{await output.ConfigureAwait(false)}");
        }
    }
}
