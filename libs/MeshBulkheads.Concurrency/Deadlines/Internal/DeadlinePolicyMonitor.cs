using MeshBulkheads.Concurrency.Bulkheads.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Concurrency.Deadlines.Internal;

/// <summary>
/// The deadline policies in force: the validated start-up snapshot, then every valid reload of <c>Deadlines:*</c>.
/// An invalid reload is logged (<c>DeadlinesReloadRejected</c>), counted (<c>config.reload_failures</c> with
/// <c>meshbulkheads.bulkhead = Deadlines</c>) and ignored.
/// </summary>
internal sealed class DeadlinePolicyMonitor : IDisposable
{
    private readonly DeadlinePolicyValidation? _validation;
    private readonly BulkheadMetrics _metrics;
    private readonly ILogger _logger;
    private readonly IDisposable? _subscription;
    private volatile DeadlinePolicyOptions _current;

    public DeadlinePolicyMonitor(
        IOptionsMonitor<DeadlinePolicyOptions> monitor,
        IEnumerable<IValidateOptions<DeadlinePolicyOptions>> validators,
        BulkheadRegistry registry,
        BulkheadMetrics metrics,
        ILogger<DeadlineInterceptor> logger)
    {
        _validation = validators.OfType<DeadlinePolicyValidation>().FirstOrDefault();
        _metrics = metrics;
        _logger = logger;

        // Validated here (fails start-up on a bad setting) before the validator relaxes for reloads.
        _current = monitor.CurrentValue;
        registry.DeadlinesStartupValidated = true;
        _subscription = monitor.OnChange(OnChanged);
    }

    public DeadlinePolicyOptions Current => _current;

    internal void OnChanged(DeadlinePolicyOptions options, string? name)
    {
        if (name is not null && name != Options.DefaultName)
        {
            return;
        }

        var result = _validation?.Check(name, options) ?? ValidateOptionsResult.Success;
        if (result.Failed)
        {
            _metrics.RecordReload(DeadlinePolicyOptions.SectionName, succeeded: false);
            BulkheadLog.DeadlinesReloadRejected(_logger, result.FailureMessage);
            return;
        }

        _current = options;
        _metrics.RecordReload(DeadlinePolicyOptions.SectionName, succeeded: true);
        BulkheadLog.DeadlinesReloadApplied(_logger, options.AllMethods.Default, options.AllMethods.Max, options.Methods.Count);
    }

    public void Dispose() => _subscription?.Dispose();
}
