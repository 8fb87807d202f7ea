using Microsoft.Extensions.Options;

namespace MeshBulkheads.Concurrency.Bulkheads.Internal;

/// <summary>
/// Validates named bulkhead options: the generated DataAnnotations checks plus the relations between settings.
/// Every failure names the setting as a configuration path, e.g. <c>Bulkheads:render:QueueLimit</c>.
/// </summary>
/// <remarks>
/// <see cref="IOptionsMonitor{TOptions}"/> rethrows a validation failure from its change callback (to whoever
/// triggered the reload) and on every later <c>Get</c>. So this validator fails only until the provider has taken
/// its first snapshot (that is <c>ValidateOnStart</c>); afterwards it lets reloads through and the provider's change
/// handler validates them, keeps the last good snapshot, and counts and logs the failure.
/// </remarks>
internal sealed class BulkheadOptionsValidation(BulkheadRegistry registry) : IValidateOptions<BulkheadOptions>
{
    private static readonly BulkheadOptionsValidator s_generated = new();

    public ValidateOptionsResult Validate(string? name, BulkheadOptions options)
    {
        if (name is null || !registry.Contains(name))
        {
            return ValidateOptionsResult.Skip;
        }

        var failures = Check(name, options);
        if (failures is null)
        {
            return ValidateOptionsResult.Success;
        }

        return registry.StartupValidated ? ValidateOptionsResult.Skip : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Returns null when valid, otherwise every failure on one line each.</summary>
    public static string? Check(string name, BulkheadOptions options)
    {
        var failures = new List<string>();
        var prefix = $"{BulkheadConstants.SectionName}:{name}:";
        var generated = s_generated.Validate(name, options);
        if (generated.Failed)
        {
            failures.AddRange(generated.Failures.Select(f => prefix + f));
        }

        if (options.AdaptiveLimit is { } adaptive)
        {
            if (adaptive.MinLimit > adaptive.MaxLimit)
            {
                failures.Add($"{prefix}AdaptiveLimit:MinLimit ({adaptive.MinLimit}) must not exceed AdaptiveLimit:MaxLimit ({adaptive.MaxLimit}).");
            }

            if (adaptive.Enabled && (options.PermitLimit < adaptive.MinLimit || options.PermitLimit > adaptive.MaxLimit))
            {
                failures.Add($"{prefix}PermitLimit ({options.PermitLimit}) is the adaptive starting limit and must lie within AdaptiveLimit:MinLimit..MaxLimit ({adaptive.MinLimit}..{adaptive.MaxLimit}).");
            }
        }

        if (options.QueueProcessingOrder == BulkheadQueueOrder.AdaptiveLifo && options.CongestionThreshold >= options.MaxQueueTime)
        {
            failures.Add($"{prefix}CongestionThreshold ({options.CongestionThreshold}) must be below MaxQueueTime ({options.MaxQueueTime}), or LIFO mode never engages.");
        }

        if (double.IsNaN(options.TenantMaxShare) || double.IsNaN(options.AdaptiveLimit?.Smoothing ?? 0))
        {
            failures.Add($"{prefix}TenantMaxShare and AdaptiveLimit:Smoothing must be finite numbers.");
        }

        return failures.Count == 0 ? null : string.Join(Environment.NewLine, failures);
    }
}
