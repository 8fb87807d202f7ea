using Microsoft.Extensions.Options;

namespace MeshBulkheads.Render;

/// <summary>Checks the relationships between limits that attributes alone cannot express.</summary>
public sealed class RenderOptionsValidator : IValidateOptions<RenderOptions>
{
    public ValidateOptionsResult Validate(string? name, RenderOptions options)
    {
        var failures = new List<string>();
        // A request of all zeros must be valid: the defaults have to fit inside the maxima.
        if (options.MaxWidth < RenderOptions.DefaultWidth)
        {
            failures.Add($"Render:MaxWidth ({options.MaxWidth}) must be at least the default width {RenderOptions.DefaultWidth}.");
        }

        if (options.MaxHeight < RenderOptions.DefaultHeight)
        {
            failures.Add($"Render:MaxHeight ({options.MaxHeight}) must be at least the default height {RenderOptions.DefaultHeight}.");
        }

        if (options.MaxIterations < RenderOptions.DefaultIterations)
        {
            failures.Add($"Render:MaxIterations ({options.MaxIterations}) must be at least the default {RenderOptions.DefaultIterations}.");
        }

        if (options.MaxPixels < (long)RenderOptions.DefaultWidth * RenderOptions.DefaultHeight)
        {
            failures.Add($"Render:MaxPixels ({options.MaxPixels}) must be at least {RenderOptions.DefaultWidth}×{RenderOptions.DefaultHeight}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
