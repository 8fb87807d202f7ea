using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Concurrency.Bulkheads.Internal;

/// <summary>Creates every registered bulkhead once and applies validated reloads to it.</summary>
internal sealed class BulkheadProvider : IBulkheadProvider, IDisposable
{
    private readonly ConcurrentDictionary<string, Bulkhead> _bulkheads = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _addLock = new();
    private readonly IOptionsFactory<BulkheadOptions> _optionsFactory;
    private readonly TimeProvider _timeProvider;
    private readonly IDisposable? _changeSubscription;
    private readonly BulkheadMetrics _metrics;
    private readonly ILogger _logger;

    public BulkheadProvider(
        BulkheadRegistry registry,
        IOptionsMonitor<BulkheadOptions> optionsMonitor,
        IOptionsFactory<BulkheadOptions> optionsFactory,
        BulkheadMetrics metrics,
        TimeProvider timeProvider,
        ILogger<Bulkhead> logger)
    {
        _metrics = metrics;
        _logger = logger;
        _optionsFactory = optionsFactory;
        _timeProvider = timeProvider;
        foreach (var name in registry.Names)
        {
            // Get validates (fails start-up on a bad setting) before the registry relaxes for reloads.
            var options = optionsMonitor.Get(name);
            _bulkheads[name] = new Bulkhead(name, options, timeProvider, metrics, logger);
        }

        registry.StartupValidated = true;
        _changeSubscription = optionsMonitor.OnChange(OnOptionsChanged);
    }

    public IReadOnlyCollection<string> Names => [.. _bulkheads.Keys];

    public Bulkhead Get(string name) =>
        TryGet(name, out var bulkhead)
            ? bulkhead
            : throw new KeyNotFoundException($"No bulkhead named '{name}'. Registered: {string.Join(", ", _bulkheads.Keys)}.");

    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Bulkhead? bulkhead) =>
        _bulkheads.TryGetValue(name, out bulkhead);

    public Bulkhead GetOrAdd(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (_bulkheads.TryGetValue(name, out var existing))
        {
            return existing;
        }

        // One creation per name: a second Bulkhead would own a second timer and a second set of gauges.
        lock (_addLock)
        {
            if (_bulkheads.TryGetValue(name, out existing))
            {
                return existing;
            }

            // The factory, not the monitor: the monitor would cache a failure (and the first snapshot) for good.
            var options = _optionsFactory.Create(name);
            if (BulkheadOptionsValidation.Check(name, options) is { } failures)
            {
                throw new OptionsValidationException(name, typeof(BulkheadOptions), [failures]);
            }

            // Often called from a request: the bulkhead's timer must not capture that request's ExecutionContext.
            using (ExecutionContext.SuppressFlow())
            {
                var bulkhead = new Bulkhead(name, options, _timeProvider, _metrics, _logger);
                _bulkheads[name] = bulkhead;
                return bulkhead;
            }
        }
    }

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
