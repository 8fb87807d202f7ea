using System.Security.Cryptography;
using MeshBulkheads.Gateway.Telemetry;
using Microsoft.Extensions.Primitives;

namespace MeshBulkheads.Gateway.Tenancy.Internal;

/// <summary>
/// Watches <see cref="GatewayTenancyOptions.ApiKeysFile"/> so that adding, rotating or revoking a key takes effect without a
/// restart: every <see cref="GatewayTenancyOptions.ApiKeysFileCheckInterval"/> it reads the file (following symlinks) and,
/// when its bytes changed, signals the tenancy options, which read and validate the file again. A valid file replaces the
/// key table (<see cref="ApiKeyAuthenticator"/>); an invalid or unreadable one is logged (<c>ApiKeysFileRejected</c>) and
/// counted as a refused reload, and the last good keys keep serving.
/// </summary>
/// <remarks>
/// It polls the content instead of using a file-system watcher: a Kubernetes Secret volume updates by writing a new
/// timestamped directory and renaming the <c>..data</c> symlink onto it, so the file's own path never sees a write event
/// (and inotify does not cross the symlinks); comparing the SHA-256 of the bytes sees a rewrite, a rename onto the path and
/// a symlink swap alike, and ignores a swap to identical content. A key file is a few kilobytes: reading it every few
/// seconds costs nothing measurable. The timer is the injected <see cref="TimeProvider"/>'s (tests advance it).
/// </remarks>
internal sealed class ApiKeysFileWatcher(
    IConfiguration configuration,
    IOptions<GatewayTenancyOptions> startupOptions,
    IServiceProvider services,
    TimeProvider timeProvider,
    GatewayMetrics metrics,
    ILogger<ApiKeysFileWatcher> logger) : IOptionsChangeTokenSource<GatewayTenancyOptions>, IHostedService, IDisposable
{
    private readonly Lock _lock = new();
    private CancellationTokenSource _changed = new();
    private ITimer? _timer;
    private byte[]? _fingerprint;

    public string? Name => Options.DefaultName;

    public IChangeToken GetChangeToken()
    {
        lock (_lock)
        {
            return new CancellationChangeToken(_changed.Token);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // The start already read and validated this content.
        _fingerprint = Fingerprint(CurrentPath());
        var interval = startupOptions.Value.ApiKeysFileCheckInterval;
        _timer = timeProvider.CreateTimer(_ => Check(), null, interval, interval);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _changed.Dispose();
    }

    /// <summary>Reads the file once; signals the options when its bytes differ from the last look (tests call it directly too).</summary>
    internal void Check()
    {
        // One look at a time: a slow disk must not let two timer callbacks signal the same change twice.
        lock (_lock)
        {
            var path = CurrentPath();
            var fingerprint = Fingerprint(path);
            if (path is null || (_fingerprint is not null && fingerprint.AsSpan().SequenceEqual(_fingerprint)))
            {
                _fingerprint = fingerprint;
                return;
            }

            _fingerprint = fingerprint;
            var changed = _changed;
            _changed = new CancellationTokenSource();
            try
            {
                // Runs the options monitor's reload here: read, validate, and on success hand the new table to the authenticator.
                changed.Cancel();
                var applied = services.GetRequiredService<IOptionsMonitor<GatewayTenancyOptions>>().CurrentValue;
                GatewayLog.ApiKeysFileApplied(logger, path, applied.Tenants.Count, applied.Tenants.Sum(t => t.AllKeyHashes().Count()));
            }
            catch (AggregateException e) when (e.InnerExceptions.All(IsReloadFailure))
            {
                metrics.ConfigReloadFailed();
                GatewayLog.ApiKeysFileRejected(logger, path, string.Join(" ", e.InnerExceptions.Select(Describe)));
            }
            catch (Exception e) when (IsReloadFailure(e))
            {
                metrics.ConfigReloadFailed();
                GatewayLog.ApiKeysFileRejected(logger, path, Describe(e));
            }
            finally
            {
                changed.Dispose();
            }
        }
    }

    private string? CurrentPath() =>
        configuration[ApiKeysFileLoader.Setting] is { Length: > 0 } path && !string.IsNullOrWhiteSpace(path) ? path : null;

    /// <summary>The SHA-256 of the file's bytes (through any symlinks), or an empty array when it cannot be read now.</summary>
    private static byte[] Fingerprint(string? path)
    {
        if (path is null)
        {
            return [];
        }

        try
        {
            return SHA256.HashData(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Signalled like a change: the options read fails the same way, is refused and logged once, and the last good keys stay.
            return [];
        }
    }

    private static bool IsReloadFailure(Exception e) =>
        e is OptionsValidationException or InvalidOperationException or FormatException or IOException or UnauthorizedAccessException or System.Text.Json.JsonException;

    private static string Describe(Exception e) =>
        e is OptionsValidationException validation ? string.Join(" ", validation.Failures) : $"{e.GetType().Name}: {e.Message}";
}
