using System.Globalization;
using MeshBulkheads.Testing.Processes;
using Npgsql;

namespace MeshBulkheads.Testing.Postgres;

/// <summary>
/// A private PostgreSQL 15 server for one test run: a temp directory owned by <c>postgres</c>,
/// <c>initdb</c> + <c>pg_ctl start</c> on 127.0.0.1 and a random free port (≈ 1 s), durability off
/// (tests never survive a crash). Use it as an assembly or collection fixture so it starts once;
/// <see cref="CreateDatabaseAsync"/> gives each test class a fresh database. When PostgreSQL is
/// missing, <see cref="UnavailableReason"/> says why and <see cref="EnsureAvailable"/> skips
/// (or fails under <c>CI=true</c>).
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    /// <summary>Where Debian's postgresql-15 package installs its server binaries.</summary>
    public const string BinDirectory = "/usr/lib/postgresql/15/bin";

    private const string User = "mesh";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    private string? _root;
    private string? _dataDirectory;
    private string? _serverOptions;
    private int _databases;

    /// <summary>Why the server could not start; null when it runs.</summary>
    public string? UnavailableReason { get; private set; }

    /// <summary>The server's TCP port on 127.0.0.1.</summary>
    public int Port { get; private set; }

    /// <summary>A connection string to the <c>postgres</c> maintenance database.</summary>
    public string AdminConnectionString => ConnectionString("postgres");

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
        var initdb = Path.Combine(BinDirectory, "initdb");
        var pgCtl = Path.Combine(BinDirectory, "pg_ctl");
        if (!File.Exists(initdb) || !File.Exists(pgCtl))
        {
            UnavailableReason = $"PostgreSQL 15 is not installed ({initdb} not found; apt-get install postgresql-15).";
            return;
        }

        // initdb and postgres refuse to run as root: run them as 'postgres' in a directory it owns.
        var asRoot = string.Equals(Environment.UserName, "root", StringComparison.Ordinal);
        if (asRoot && ServerRequirement.FindExecutable("runuser", "/usr/sbin", "/sbin") is null)
        {
            UnavailableReason = "PostgreSQL tests run as root need 'runuser' to start the server as 'postgres'.";
            return;
        }

        _root = Path.Combine(Path.GetTempPath(), "mesh-pg-" + Guid.NewGuid().ToString("N")[..12]);
        _dataDirectory = Path.Combine(_root, "data");
        Directory.CreateDirectory(_root);
        try
        {
            if (asRoot)
            {
                await RunAsync("chown", ["postgres:postgres", _root], asPostgres: false);
            }

            await RunAsync(initdb, ["-D", _dataDirectory, "-A", "trust", "-U", User, "--no-sync", "-E", "UTF8", "--locale=C"], asRoot);

            // A free port can be taken between probing and binding: try a few.
            string? lastError = null;
            for (var attempt = 0; attempt < 3; attempt++)
            {
                Port = ServerProcess.FreeLoopbackPort();
                var options = string.Create(
                    CultureInfo.InvariantCulture,
                    $"-c listen_addresses=127.0.0.1 -p {Port} -k {_root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200");
                var (exitCode, output) = await TryRunAsync(
                    pgCtl, ["-D", _dataDirectory, "-o", options, "-l", Path.Combine(_root, "server.log"), "-w", "-t", "30", "start"], asRoot);
                if (exitCode == 0)
                {
                    _serverOptions = options;
                    return;
                }

                lastError = output + ReadLogTail();
            }

            UnavailableReason = "PostgreSQL did not start: " + lastError;
        }
        catch (Exception ex)
        {
            UnavailableReason = "PostgreSQL did not start: " + ex.Message;
        }
    }

    /// <summary>Creates an empty database and returns a connection string to it.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        EnsureAvailable();
        var name = "mesh_test_" + Interlocked.Increment(ref _databases).ToString(CultureInfo.InvariantCulture);
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync().DefaultTimeout();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync().DefaultTimeout();
        return ConnectionString(name);
    }

    /// <summary>
    /// Stops the server (<c>pg_ctl stop -m fast</c>: clients are disconnected, as in a real restart or failover).
    /// Use a private instance for this, never the run's shared one.
    /// </summary>
    public async Task StopServerAsync()
    {
        EnsureAvailable();
        var asRoot = string.Equals(Environment.UserName, "root", StringComparison.Ordinal);
        await RunAsync(Path.Combine(BinDirectory, "pg_ctl"), ["-D", _dataDirectory!, "-m", "fast", "-w", "-t", "30", "stop"], asRoot);
    }

    /// <summary>Starts a server stopped by <see cref="StopServerAsync"/> again, on the same port and data.</summary>
    public async Task StartServerAsync()
    {
        EnsureAvailable();
        var asRoot = string.Equals(Environment.UserName, "root", StringComparison.Ordinal);
        await RunAsync(
            Path.Combine(BinDirectory, "pg_ctl"),
            ["-D", _dataDirectory!, "-o", _serverOptions!, "-l", Path.Combine(_root!, "server.log"), "-w", "-t", "30", "start"],
            asRoot);
    }

    /// <summary><see cref="StopServerAsync"/> then <see cref="StartServerAsync"/>: every open connection is dead afterwards.</summary>
    public async Task RestartServerAsync()
    {
        await StopServerAsync();
        await StartServerAsync();
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_dataDirectory is not null && UnavailableReason is null)
        {
            var asRoot = string.Equals(Environment.UserName, "root", StringComparison.Ordinal);
            await TryRunAsync(Path.Combine(BinDirectory, "pg_ctl"), ["-D", _dataDirectory, "-m", "immediate", "-w", "stop"], asRoot);
        }

        TempDirectories.TryDelete(_root);
    }

    private string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = User,
        Database = database,
        Timeout = 10,
    }.ToString();

    private string ReadLogTail()
    {
        var log = _root is null ? null : Path.Combine(_root, "server.log");
        if (log is null || !File.Exists(log))
        {
            return string.Empty;
        }

        var lines = File.ReadAllLines(log);
        return Environment.NewLine + string.Join(Environment.NewLine, lines.TakeLast(10));
    }

    private static async Task RunAsync(string fileName, string[] arguments, bool asPostgres)
    {
        var (exitCode, output) = await TryRunAsync(fileName, arguments, asPostgres);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(fileName)} exited with {exitCode}: {output}");
        }
    }

    private static async Task<(int ExitCode, string Output)> TryRunAsync(string fileName, string[] arguments, bool asPostgres)
    {
        try
        {
            var result = asPostgres
                ? await Tool.RunAsync("runuser", ["-u", "postgres", "--", fileName, .. arguments], Environment.CurrentDirectory, CommandTimeout)
                : await Tool.RunAsync(fileName, arguments, Environment.CurrentDirectory, CommandTimeout);
            return (result.ExitCode, (result.StandardOutput + result.StandardError).Trim());
        }
        catch (TimeoutException)
        {
            return (-1, $"{Path.GetFileName(fileName)} timed out after {CommandTimeout.TotalSeconds:0} s.");
        }
    }
}
