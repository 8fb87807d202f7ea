using System.Text.Json;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;

namespace MeshBulkheads.ServiceDefaults.Faults.Internal;

/// <summary>
/// Applies <see cref="MeshFaultOptions.File"/> (the chart's faults ConfigMap) at start and on every change: the
/// generation is the document's, so a script waits until every pod's <c>meshbulkheads_faults_generation</c> equals the
/// ConfigMap's. An invalid document is logged and ignored (the last good faults stay); never stops the host.
/// </summary>
internal sealed class FaultFileWatcher(MeshFaults faults, IOptions<MeshFaultOptions> options, IHostEnvironment environment, TimeProvider timeProvider, ILogger<MeshFaults> logger) : IHostedService, IDisposable
{
    private PhysicalFileProvider? _provider;
    private IDisposable? _subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.File is not { Length: > 0 } file || !FaultEndpoints.IsEnabled(options.Value, environment))
        {
            return Task.CompletedTask;
        }

        var path = Path.GetFullPath(file);
        // A ConfigMap update swaps a symlink, which inotify does not report for the file: the chart sets
        // DOTNET_USE_POLLING_FILE_WATCHER, which PhysicalFileProvider honours.
        _provider = new PhysicalFileProvider(Path.GetDirectoryName(path)!);
        _subscription = ChangeToken.OnChange(() => _provider.Watch(Path.GetFileName(path)), () => Load(path));
        Load(path);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _subscription?.Dispose();
        _provider?.Dispose();
    }

    internal void Load(string path)
    {
        try
        {
            if (!File.Exists(path))
            {
                return;
            }

            using var stream = File.OpenRead(path);
            var document = JsonSerializer.Deserialize<FaultFile>(stream, FaultEndpoints.Json);
            if (document?.Faults is not { } list)
            {
                FaultsLog.FileRejected(logger, path, "no 'faults' array");
                return;
            }

            var (accepted, problem) = FaultEndpoints.Accept(list, options.Value, timeProvider.GetUtcNow(), absoluteExpiry: true);
            if (problem is not null)
            {
                FaultsLog.FileRejected(logger, path, problem);
                return;
            }

            faults.Replace(accepted!, tokenId: "file", generation: document.Generation);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            FaultsLog.FileRejected(logger, path, e.GetType().Name + ": " + e.Message);
        }
    }

    private sealed record FaultFile(long Generation, List<FaultSpec?>? Faults);
}
