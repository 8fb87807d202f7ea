using MeshBulkheads.Concurrency.Bulkheads;

namespace MeshBulkheads.Render.Internal;

/// <summary>
/// Start-up checks of the <c>render</c> bulkhead against its derived permit limit: <c>PermitLimit</c> is
/// <c>Render:WorkerCount</c> and cannot be set itself, and an adaptive limit may not grow above the workers (more
/// permits than threads would queue admitted jobs a second time, invisibly).
/// </summary>
/// <remarks>
/// After start it lets every reload through (like the library's own bulkhead validation): the library's reload handler
/// validates, applies or refuses, and the derived <c>PermitLimit</c> is applied again on every reload anyway.
/// </remarks>
internal sealed class RenderBulkheadValidation(IConfiguration configuration, IOptions<RenderOptions> render, IHostApplicationLifetime lifetime) : IValidateOptions<BulkheadOptions>
{
    public ValidateOptionsResult Validate(string? name, BulkheadOptions options)
    {
        if (!string.Equals(name, RenderBulkheads.Name, StringComparison.OrdinalIgnoreCase) || lifetime.ApplicationStarted.IsCancellationRequested)
        {
            return ValidateOptionsResult.Skip;
        }

        var failures = new List<string>();
        var section = $"{BulkheadConstants.SectionName}:{RenderBulkheads.Name}";
        if (configuration[$"{section}:PermitLimit"] is { } permits)
        {
            failures.Add($"{section}:PermitLimit ({permits}) is derived (one permit per render worker) and cannot be set: set Render:WorkerCount instead.");
        }

        var workers = render.Value.EffectiveWorkers;
        if (options.AdaptiveLimit.Enabled && options.AdaptiveLimit.MaxLimit > workers)
        {
            failures.Add($"{section}:AdaptiveLimit:MaxLimit ({options.AdaptiveLimit.MaxLimit}) must not exceed the render workers (Render:WorkerCount, {workers}): more permits than threads would queue admitted renders a second time.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
