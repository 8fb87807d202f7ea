using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Grpc.Net.Client;
using MeshBulkheads.ServiceDefaults.Hosting;

namespace MeshBulkheads.Testing.Processes;

/// <summary>
/// A built host (gateway or service) running as a real child process: <c>dotnet exec</c> of its
/// dll, configured through environment variables, on 127.0.0.1 with ports chosen by the OS.
/// Use it for what in-process hosts cannot show — traces across processes, thread-pool lag,
/// memory, killing a process. The process tree is killed on <see cref="DisposeAsync"/>.
/// </summary>
public sealed partial class HostProcess : IAsyncDisposable
{
    /// <summary>How long a host may take from launch to <c>/readyz</c> = 200 (2 shared cores, cold JIT).</summary>
    public static TimeSpan StartTimeout { get; } = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan ReadyPollInterval = TimeSpan.FromMilliseconds(100);
    private const int SigTerm = 15;

    // Environment the test runner may carry that would redirect the child.
    private static readonly string[] InheritedVariablesToDrop = ["ASPNETCORE_URLS", "HTTP_PORTS", "HTTPS_PORTS", "DOTNET_URLS"];

    private readonly ServerProcess _process;
    private readonly List<Uri> _listening = [];
    private readonly TaskCompletionSource<MeshEndpoints> _bound = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<GrpcChannel> _channels = [];
    private MeshEndpoints? _endpoints;
    private int _disposed;

    private HostProcess(string projectName, ProcessStartInfo startInfo)
    {
        ProjectName = projectName;
        _process = new ServerProcess(startInfo, outputLines: 400, OnOutput, () => _bound.TrySetException(Failure("exited before binding its ports")));
    }

    /// <summary>The project (and assembly) name, e.g. <c>MeshBulkheads.Payments</c>.</summary>
    public string ProjectName { get; }

    /// <summary>The child's process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>True once the process has exited (killed, crashed or stopped).</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The bound gRPC (h2c) and admin (HTTP/1.1) addresses, read from Kestrel's start-up log.</summary>
    public MeshEndpoints Endpoints => _endpoints ?? throw new InvalidOperationException($"{ProjectName} has not bound its ports yet.");

    /// <summary>The last lines the process wrote to stdout and stderr.</summary>
    public string RecentOutput => _process.RecentOutput;

    /// <summary>
    /// Starts the built host <paramref name="projectName"/> and returns once its admin port answers
    /// <c>/readyz</c> with 200. Configuration keys use ':' (<c>Reporting:PaymentsAddress</c>) and are
    /// passed as environment variables (<c>Reporting__PaymentsAddress</c>); a null value removes an
    /// inherited one. Defaults: both ports 0, bind 127.0.0.1, logs at Warning except
    /// <c>Microsoft.Hosting.Lifetime</c> at Information (its "Now listening on" lines give the ports).
    /// </summary>
    public static async Task<HostProcess> StartAsync(
        string projectName,
        IReadOnlyDictionary<string, string?>? configuration = null,
        CancellationToken cancellationToken = default)
    {
        var assembly = RepositoryLayout.HostAssembly(projectName);
        // The host's own folder: its appsettings.json (routes, tenants) is read from the content root.
        var startInfo = Tool.StartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", ["exec", assembly], Path.GetDirectoryName(assembly)!);
        startInfo.RedirectStandardInput = true;
        ConfigureEnvironment(startInfo.Environment, projectName, configuration);

        var host = new HostProcess(projectName, startInfo);
        host._process.Start();
        try
        {
            await host.WaitUntilReadyAsync(cancellationToken);
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// A channel to the gRPC port (disposed with the process). To a service, every call without an
    /// <c>x-mesh-identity</c> gets one minted like the gateway's (<see cref="TestIdentity.MintingHandler"/>).
    /// </summary>
    public GrpcChannel CreateChannel(GrpcChannelOptions? options = null)
    {
        options ??= new GrpcChannelOptions();
        if (AudienceOf(ProjectName) is { } audience)
        {
            options.HttpHandler = new TestIdentity.MintingHandler(audience, options.HttpHandler ?? new SocketsHttpHandler { EnableMultipleHttp2Connections = true });
        }

        var channel = GrpcChannel.ForAddress(Endpoints.Grpc, options);
        _channels.Add(channel);
        return channel;
    }

    /// <summary>An HTTP/1.1 client for the admin port.</summary>
    public HttpClient CreateAdminClient() => new() { BaseAddress = Endpoints.Admin };

    /// <summary>
    /// Asks the process to stop (SIGTERM, as Kubernetes and <c>make run</c> do) and waits for it to exit;
    /// kills the process tree if it does not within 15 s. Returns the exit code.
    /// </summary>
    public async Task<int> StopAsync()
    {
        if (!_process.HasExited && Kill(_process.Id, SigTerm) != 0)
        {
            _process.KillTree();
        }

        using var timeout = new CancellationTokenSource(StopTimeout);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.KillTree();
            await _process.WaitForExitAsync();
        }

        return _process.ExitCode;
    }

    /// <summary>Kills the process tree at once (a crash, as far as its peers can tell).</summary>
    public async Task KillAsync()
    {
        _process.KillTree();
        await _process.WaitForExitAsync().WaitAsync(StopTimeout);
    }

    /// <summary>
    /// Writes the recent output to the current test's output when the test failed (or when its result
    /// is not known yet), so a failure shows what the child process said.
    /// </summary>
    public void ReportOutputIfTestFailed() => _process.ReportOutputIfTestFailed($"{ProjectName} (pid {_process.Id})");

    /// <summary>Kills the process tree and waits for it to exit.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var channel in _channels)
        {
            channel.Dispose();
        }

        try
        {
            await KillAsync();
        }
        catch (InvalidOperationException)
        {
            // Never started: nothing to kill.
        }

        _process.Dispose();
    }

    /// <summary>The service a host project verifies tokens for (<c>MeshBulkheads.Payments</c> → <c>payments</c>), or null for the gateway.</summary>
    public static string? AudienceOf(string projectName)
    {
        var audience = projectName.Replace("MeshBulkheads.", string.Empty, StringComparison.Ordinal).ToLowerInvariant();
        return TestIdentity.Audiences.Contains(audience) ? audience : null;
    }

    private static void ConfigureEnvironment(IDictionary<string, string?> environment, string projectName, IReadOnlyDictionary<string, string?>? configuration)
    {
        foreach (var name in InheritedVariablesToDrop)
        {
            environment.Remove(name);
        }

        // Telemetry export only when a test asks for it (the runner may run under an Aspire dashboard).
        foreach (var name in environment.Keys.Where(k => k.StartsWith("OTEL_", StringComparison.Ordinal)).ToList())
        {
            environment.Remove(name);
        }

        var settings = new Dictionary<string, string?>
        {
            ["Mesh:GrpcPort"] = "0",
            ["Mesh:AdminPort"] = "0",
            ["Mesh:BindAddress"] = "127.0.0.1",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
            // Plain console lines: the port parser reads them.
            ["Logging:Console:FormatterName"] = "simple",
            ["Logging:Console:FormatterOptions:ColorBehavior"] = "Disabled",
            // Like `make run`: the demo tenants and seeding are development configuration.
            ["DOTNET_ENVIRONMENT"] = "Development",
        };
        // Identity keys as `make run` shares them: the gateway all, each service its own.
        foreach (var (key, value) in TestIdentity.GatewaySettings)
        {
            settings[key] = value;
        }

        if (AudienceOf(projectName) is { } audience)
        {
            settings[$"Mesh:Identity:Keys:{TestIdentity.KeyId}"] = TestIdentity.Key(audience);
        }

        foreach (var (key, value) in configuration ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        foreach (var (key, value) in settings)
        {
            var name = key.Replace(":", "__", StringComparison.Ordinal);
            if (value is null)
            {
                environment.Remove(name);
            }
            else
            {
                environment[name] = value;
            }
        }
    }

    private void OnOutput(string line)
    {
        var match = ListeningLine().Match(line);
        if (!match.Success)
        {
            return;
        }

        lock (_listening)
        {
            _listening.Add(new Uri(match.Groups["url"].Value));
            // Kestrel logs its addresses in Listen order: ServiceDefaults binds gRPC first, then admin.
            if (_listening.Count == 2)
            {
                _bound.TrySetResult(new MeshEndpoints(_listening[0], _listening[1]));
            }
        }
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StartTimeout);
        try
        {
            _endpoints = await _bound.Task.WaitAsync(timeout.Token);
            using var admin = CreateAdminClient();
            if (!await _process.WaitUntilReadyAsync(ct => ServerProcess.AnswersOkAsync(admin, "/readyz", ct), ReadyPollInterval, timeout.Token))
            {
                throw Failure("exited before it was ready");
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Failure($"was not ready within {StartTimeout.TotalSeconds:0} s");
        }
    }

    private InvalidOperationException Failure(string what) =>
        new($"{ProjectName} {what}. Its last output:{Environment.NewLine}{RecentOutput}");

    [GeneratedRegex(@"Now listening on: (?<url>http://\S+)")]
    private static partial Regex ListeningLine();

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);
}
