namespace MeshBulkheads.ServiceDefaults.Tls.Internal;

/// <summary>Both files or neither, each existing, and a sane check interval; the certificate itself is checked by <see cref="ServerCertificateCache"/> at start.</summary>
internal sealed class MeshTlsOptionsValidator : IValidateOptions<MeshTlsOptions>
{
    public ValidateOptionsResult Validate(string? name, MeshTlsOptions options)
    {
        var failures = new List<string>();
        var hasCertificate = !string.IsNullOrWhiteSpace(options.CertificateFile);
        var hasKey = !string.IsNullOrWhiteSpace(options.KeyFile);
        if (hasCertificate != hasKey)
        {
            failures.Add($"{MeshTlsOptions.SectionName}: set both CertificateFile and KeyFile (the PEM files of a TLS Secret, tls.crt and tls.key) or neither.");
        }

        if (hasCertificate && !File.Exists(options.CertificateFile))
        {
            failures.Add($"{MeshTlsOptions.SectionName}:CertificateFile '{options.CertificateFile}' does not exist.");
        }

        if (hasKey && !File.Exists(options.KeyFile))
        {
            failures.Add($"{MeshTlsOptions.SectionName}:KeyFile '{options.KeyFile}' does not exist.");
        }

        if (options.CheckInterval < TimeSpan.FromSeconds(1) || options.CheckInterval > TimeSpan.FromHours(1))
        {
            failures.Add($"{MeshTlsOptions.SectionName}:CheckInterval {options.CheckInterval} must be between 00:00:01 and 01:00:00.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
