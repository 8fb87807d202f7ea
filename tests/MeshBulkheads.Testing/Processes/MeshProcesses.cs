namespace MeshBulkheads.Testing.Processes;

/// <summary>
/// The whole mesh as four child processes wired together: payments, reporting (→ payments),
/// render, and the gateway (→ all three), each on OS-chosen ports. For cross-process tests.
/// </summary>
public sealed class MeshProcesses : IAsyncDisposable
{
    public const string GatewayProject = "MeshBulkheads.Gateway";
    public const string PaymentsProject = "MeshBulkheads.Payments";
    public const string ReportingProject = "MeshBulkheads.Reporting";
    public const string RenderProject = "MeshBulkheads.Render";

    private readonly string _dataDirectory;

    private MeshProcesses(HostProcess payments, HostProcess reporting, HostProcess render, HostProcess gateway, string dataDirectory)
    {
        Payments = payments;
        Reporting = reporting;
        Render = render;
        Gateway = gateway;
        _dataDirectory = dataDirectory;
    }

    public HostProcess Gateway { get; }

    public HostProcess Payments { get; }

    public HostProcess Reporting { get; }

    public HostProcess Render { get; }

    /// <summary>All four, gateway first.</summary>
    public IReadOnlyList<HostProcess> All => [Gateway, Payments, Reporting, Render];

    /// <summary>
    /// Starts payments and render, then reporting pointed at payments, then the gateway pointed at
    /// the three. <paramref name="configure"/> adds configuration per project name (e.g. tenants,
    /// bulkhead limits). Payments gets a fresh temporary data directory, removed on dispose.
    /// </summary>
    public static async Task<MeshProcesses> StartAsync(
        Func<string, IReadOnlyDictionary<string, string?>>? configure = null,
        CancellationToken cancellationToken = default)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("meshbulkheads-e2e-").FullName;
        var started = new List<HostProcess>();
        try
        {
            var paymentsTask = StartAsync(PaymentsProject, configure, cancellationToken, ("Payments:DataDirectory", dataDirectory));
            var renderTask = StartAsync(RenderProject, configure, cancellationToken);
            // Await both before anything can throw, so neither leaks.
            await Task.WhenAll(Settle(paymentsTask), Settle(renderTask));
            started.AddRange(Started(paymentsTask, renderTask));
            var payments = await paymentsTask;
            var render = await renderTask;

            var reporting = await StartAsync(ReportingProject, configure, cancellationToken, ("Reporting:PaymentsAddress", Address(payments)));
            started.Add(reporting);

            var gateway = await StartAsync(
                GatewayProject,
                configure,
                cancellationToken,
                (Destination("payments"), Address(payments)),
                (Destination("reporting"), Address(reporting)),
                (Destination("render"), Address(render)));
            started.Add(gateway);

            return new MeshProcesses(payments, reporting, render, gateway, dataDirectory);
        }
        catch
        {
            foreach (var process in started)
            {
                await process.DisposeAsync();
            }

            TempDirectories.TryDelete(dataDirectory);
            throw;
        }
    }

    /// <summary>See <see cref="HostProcess.ReportOutputIfTestFailed"/>; for all four.</summary>
    public void ReportOutputIfTestFailed()
    {
        foreach (var process in All)
        {
            process.ReportOutputIfTestFailed();
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Front to back, so no process logs errors about a peer that went away first.
        foreach (var process in All)
        {
            await process.DisposeAsync();
        }

        TempDirectories.TryDelete(_dataDirectory);
    }

    private static Task<HostProcess> StartAsync(
        string project,
        Func<string, IReadOnlyDictionary<string, string?>>? configure,
        CancellationToken cancellationToken,
        params (string Key, string? Value)[] wiring)
    {
        var settings = wiring.ToDictionary(w => w.Key, w => w.Value);
        foreach (var (key, value) in configure?.Invoke(project) ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return HostProcess.StartAsync(project, settings, cancellationToken);
    }

    private static string Destination(string cluster) => $"ReverseProxy:Clusters:{cluster}:Destinations:d1:Address";

    private static string Address(HostProcess process) => process.Endpoints.Grpc.ToString().TrimEnd('/');

    private static async Task Settle(Task task)
    {
        try
        {
            await task;
        }
        catch
        {
            // Observed by the caller.
        }
    }

    private static IEnumerable<HostProcess> Started(params Task<HostProcess>[] tasks) =>
        tasks.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result);
}
