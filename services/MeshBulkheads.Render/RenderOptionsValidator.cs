namespace MeshBulkheads.Render;

/// <summary>
/// Source-generated validator for <see cref="RenderOptions"/>: the attributes, the nested work budget's, and the
/// rules between settings (<see cref="RenderOptions.Validate"/>).
/// </summary>
[OptionsValidator]
public sealed partial class RenderOptionsValidator : IValidateOptions<RenderOptions>
{
}
