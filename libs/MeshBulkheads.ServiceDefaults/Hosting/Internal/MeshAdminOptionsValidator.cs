namespace MeshBulkheads.ServiceDefaults.Hosting.Internal;

/// <summary>An admin token, when set, is long enough to resist guessing; the message never shows it.</summary>
internal sealed class MeshAdminOptionsValidator : IValidateOptions<MeshAdminOptions>
{
    public ValidateOptionsResult Validate(string? name, MeshAdminOptions options) =>
        options.Token.Length is > 0 and < MeshAdminOptions.MinTokenLength
            ? ValidateOptionsResult.Fail($"{MeshAdminOptions.SectionName}:Token has {options.Token.Length} characters: use at least {MeshAdminOptions.MinTokenLength} (e.g. openssl rand -hex 24), or leave it empty to turn admin writes off.")
            : ValidateOptionsResult.Success;
}
