using System.Text.Json;
using MeshBulkheads.Gateway.Telemetry;
using MeshBulkheads.Gateway.Tenancy;
using Microsoft.Extensions.Primitives;

namespace MeshBulkheads.Gateway.Policy;

/// <summary>
/// Holds the gateway's current <see cref="GatewayPolicy"/> and applies configuration reloads: a
/// reload whose policy or tenancy settings fail validation or cannot be bound (a value of the wrong
/// type, an unreadable keys file) is logged, counted
/// (<c>meshbulkheads.gateway.config.reload_failures</c>) and ignored, so the last good policy keeps
/// serving; an accepted one increments <see cref="GatewayPolicy.Generation"/>
/// (<c>meshbulkheads.gateway.config.generation</c>) and raises <see cref="Changed"/>.
/// </summary>
/// <remarks>
/// Configuration sources often signal one edit several times (file watchers fire twice; every provider
/// of a reload signals): a reload whose policy and tenant tiers equal the current ones starts no new
/// generation (it would hand every tenant a fresh burst), and the same invalid configuration is logged
/// and counted once.
/// </remarks>
public sealed class GatewayPolicyMonitor : IDisposable
{
    private readonly IOptionsFactory<GatewayPolicyOptions> _policyFactory;
    private readonly IOptionsFactory<GatewayTenancyOptions> _tenancyFactory;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<GatewayPolicyMonitor> _logger;
    private readonly IDisposable _subscription;
    private readonly Lock _reloadLock = new();
    private volatile GatewayPolicy _current;
    private string _currentFingerprint;
    private string? _lastFailure;

    public GatewayPolicyMonitor(
        IConfiguration configuration,
        IOptions<GatewayPolicyOptions> startupOptions,
        IOptionsFactory<GatewayPolicyOptions> policyFactory,
        IOptionsFactory<GatewayTenancyOptions> tenancyFactory,
        GatewayMetrics metrics,
        ILogger<GatewayPolicyMonitor> logger)
    {
        _policyFactory = policyFactory;
        _tenancyFactory = tenancyFactory;
        _metrics = metrics;
        _logger = logger;
        // IOptions<T>.Value was validated by ValidateOnStart: the first generation is good.
        _current = new GatewayPolicy(1, startupOptions.Value);
        _currentFingerprint = Fingerprint(startupOptions.Value, tenancyFactory.Create(Options.DefaultName));
        metrics.ObserveConfigGeneration(() => _current.Generation);
        _subscription = ChangeToken.OnChange(configuration.GetReloadToken, OnReload);
    }

    /// <summary>Raised after an accepted reload, with the new policy.</summary>
    public event Action<GatewayPolicy>? Changed;

    /// <summary>The policy in force.</summary>
    public GatewayPolicy Current => _current;

    public void Dispose() => _subscription.Dispose();

    /// <summary>What the per-tenant state depends on: the policy and each tenant's tier (never keys).</summary>
    private static string Fingerprint(GatewayPolicyOptions options, GatewayTenancyOptions tenancy) =>
        JsonSerializer.Serialize(new { options.Tiers, options.RouteCosts, options.UnauthenticatedLimit, options.UnauthenticatedSources, Tenants = tenancy.Tenants.Select(t => new { t.Id, t.Tier }) });

    private void OnReload()
    {
        lock (_reloadLock)
        {
            GatewayPolicyOptions options;
            GatewayTenancyOptions tenancy;
            try
            {
                options = _policyFactory.Create(Options.DefaultName);
                // Tenancy has its own monitor (the key table); a bad tenancy setting still makes the reload a failure here.
                tenancy = _tenancyFactory.Create(Options.DefaultName);
            }
            catch (Exception e) when (e is OptionsValidationException or InvalidOperationException or FormatException or IOException or UnauthorizedAccessException or JsonException)
            {
                // Validation, and everything else a reload can fail with: a value the binder cannot
                // convert ("abc" for a number), an unreadable keys file. A reload callback that throws
                // would be lost (configuration change callbacks have no caller to report to).
                var failure = e is OptionsValidationException validation ? string.Join(" ", validation.Failures) : $"{e.GetType().Name}: {e.Message}";
                if (failure != _lastFailure)
                {
                    _lastFailure = failure;
                    _metrics.ConfigReloadFailed();
                    GatewayLog.ConfigReloadRejected(_logger, _current.Generation, failure);
                }

                return;
            }

            _lastFailure = null;
            var fingerprint = Fingerprint(options, tenancy);
            if (fingerprint == _currentFingerprint)
            {
                return;
            }

            _currentFingerprint = fingerprint;
            var next = new GatewayPolicy(_current.Generation + 1, options);
            _current = next;
            GatewayLog.ConfigReloaded(_logger, next.Generation);
            Changed?.Invoke(next);
        }
    }
}
