using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Concurrency.Bulkheads.Internal;

/// <summary>Creates every registered bulkhead once and applies validated reloads to it.</summary>
internal sealed class BulkheadProvider : IBulkheadProvider, IDisposable
{
    private readonly Dictionary<string, Bulkhead> _bulkheads = new(StringComparer.OrdinalIgnoreCase);
    private readonly IDisposable? _changeSubscription;
    private readonly BulkheadMetrics _metrics;
    private readonly ILogger _logger;

    public BulkheadProvider(
        BulkheadRegistry registry,
        IOptionsMonitor<BulkheadOptions> optionsMonitor,
        BulkheadMetrics metrics,
        TimeProvider timeProvider,
        ILogger<Bulkhead> logger)
    {
        _metrics = metrics;
        _logger = logger;
        foreach (var name in registry.Names)
        {
            // Get validates (fails start-up on a bad setting) before the registry relaxes for reloads.
            var options = optionsMonitor.Get(name);
            _bulkheads[name] = new Bulkhead(name, options, timeProvider, metrics, logger);
        }

        registry.StartupValidated = true;
        _changeSubscription = optionsMonitor.OnChange(OnOptionsChanged);
    }

    public IReadOnlyCollection<string> Names => _bulkheads.Keys;

    public Bulkhead Get(string name) =>
        TryGet(name, out var bulkhead)
            ? bulkhead
            : throw new KeyNotFoundException($"No bulkhead named '{name}'. Registered: {string.Join(", ", _bulkheads.Keys)}.");

    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Bulkhead? bulkhead) =>
        _bulkheads.TryGetValue(name, out bulkhead);

    /// <summary>Validates a reload; applies it, or keeps the last good snapshot and counts the failure.</summary>
    internal void OnOptionsChanged(BulkheadOptions options, string? name)
    {
        if (name is null || !_bulkheads.TryGetValue(name, out var bulkhead))
        {
            return;
        }

        var failures = BulkheadOptionsValidation.Check(bulkhead.Name, options);
        if (failures is not null)
        {
            _metrics.RecordReload(bulkhead.Name, succeeded: false);
            BulkheadLog.ReloadRejected(_logger, bulkhead.Name, failures);
            return;
        }

        bulkhead.UpdateOptions(options);
        _metrics.RecordReload(bulkhead.Name, succeeded: true);
        BulkheadLog.ReloadApplied(_logger, bulkhead.Name, options.PermitLimit, options.QueueLimit, options.MaxQueueTime);
    }

    public void Dispose()
    {
        _changeSubscription?.Dispose();
        foreach (var bulkhead in _bulkheads.Values)
        {
            bulkhead.Dispose();
        }
    }
}
